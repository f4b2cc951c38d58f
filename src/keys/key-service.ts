// Virtual keys: creation (the secret is returned once), lookup through a short-lived in-memory cache (no database
// round trip per request), and revocation that reaches every replica quickly (Redis pub/sub, the cache TTL as backstop).
import { LRUCache } from 'lru-cache';
import type { KeyBudget, KeyRecord, KeyStore } from './key-record.js';
import { generateKeyId, generateSecret, hashSecret, sameHash } from './key-secret.js';
import type { RevocationBus } from './revocation-bus.js';

export interface NewKey {
  name?: string | null;
  team?: string | null;
  user?: string | null;
  tier?: string | null;
  models?: string[] | null;
  rpm?: number | null;
  tpm?: number | null;
  concurrency?: number | null;
  budgets?: KeyBudget[];
  expiresAt?: number | null;
}

export interface KeyServiceOptions {
  /** How long a looked-up key (or a miss) is trusted before the store is asked again; bounds revocation delay without pub/sub. */
  cacheTtlMs: number;
  cacheSize?: number;
  clock?: () => number;
}

interface CachedKey {
  record: KeyRecord | null;
}

export class KeyService {
  private readonly cache: LRUCache<string, CachedKey>;
  private readonly clock: () => number;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    readonly store: KeyStore,
    private readonly bus: RevocationBus | undefined,
    options: KeyServiceOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.cache = new LRUCache<string, CachedKey>({
      max: options.cacheSize ?? 10_000,
      ttl: options.cacheTtlMs,
      // A store outage must not log every caller out: a recently seen key keeps working from the cache.
      allowStaleOnFetchRejection: true,
      noDeleteOnFetchRejection: true,
      fetchMethod: async (hash) => ({ record: (await this.store.findByHash(hash)) ?? null }),
    });
  }

  async start(): Promise<void> {
    await this.store.migrate();
    if (this.bus) this.unsubscribe = await this.bus.subscribe((hash) => this.cache.delete(hash));
  }

  async create(spec: NewKey): Promise<{ secret: string; record: KeyRecord }> {
    const secret = generateSecret();
    const record: KeyRecord = {
      id: generateKeyId(),
      hash: hashSecret(secret),
      prefix: secret.slice(0, 8),
      name: spec.name ?? null,
      team: spec.team ?? null,
      user: spec.user ?? null,
      tier: spec.tier ?? null,
      models: spec.models ?? null,
      rpm: spec.rpm ?? null,
      tpm: spec.tpm ?? null,
      concurrency: spec.concurrency ?? null,
      budgets: spec.budgets ?? [],
      expiresAt: spec.expiresAt ?? null,
      createdAt: this.clock(),
      revokedAt: null,
    };
    await this.store.insert(record);
    return { secret, record };
  }

  /** The live key for a presented secret, or `undefined` (unknown, revoked or expired). Throws when the store cannot be reached. */
  async authenticate(secret: string): Promise<KeyRecord | undefined> {
    const hash = hashSecret(secret);
    const cached = await this.cache.fetch(hash);
    const record = cached?.record;
    if (!record || !sameHash(record.hash, hash)) return undefined;
    if (record.revokedAt !== null) return undefined;
    if (record.expiresAt !== null && record.expiresAt <= this.clock()) return undefined;
    return record;
  }

  async revoke(id: string): Promise<KeyRecord | undefined> {
    const revoked = await this.store.revoke(id, this.clock());
    if (revoked) {
      this.cache.delete(revoked.hash);
      await this.bus?.publish(revoked.hash);
    }
    return revoked;
  }

  async close(): Promise<void> {
    await this.unsubscribe?.();
    this.cache.clear();
  }
}
