// The response cache: L1 (in-process LRU by bytes) over an optional L2 (Redis or SQLite), the semantic index kept
// in step with it (warm-up at start, announcements between replicas), coalescing, purges and metrics.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ChatCompletion } from '../core/types.js';
import { entryCompletion, type CacheEntry } from './cache-entry.js';
import { publishCacheEvent } from './cache-events.js';
import { CacheMetrics } from './cache-metrics.js';
import { Coalescer } from './coalescer.js';
import type { SemanticCache } from './semantic/semantic-cache.js';
import { MemoryTier } from './stores/memory-tier.js';
import { keyMatches, type CacheAnnouncement, type PurgeFilter, type SharedStore } from './stores/shared-store.js';

export interface ResponseCacheOptions {
  gatewayId: number;
  logger: Logger;
  memoryMaxBytes: number;
  maxEntryBytes: number;
  coalesceWaitMs: number;
  store: SharedStore | undefined;
  /** Resolves once the semantic cache can serve (lexicon loaded); undefined when semantic caching is off. */
  semantic: Promise<SemanticCache | undefined> | undefined;
  registry: Registry | undefined;
  now?: () => number;
}

export interface PurgeResult {
  memory: number;
  store: number;
  semantic: number;
}

export class ResponseCache {
  readonly memory: MemoryTier;
  readonly coalescer: Coalescer<CacheEntry>;
  readonly now: () => number;
  /** Settles once the semantic index is warmed from L2 and announcements are subscribed (tests and probes wait on it). */
  readonly ready: Promise<void>;
  private semanticCache: SemanticCache | undefined;
  private readonly completions = new WeakMap<CacheEntry, ChatCompletion>();
  private readonly metrics: CacheMetrics | undefined;
  private closed = false;

  constructor(private readonly options: ResponseCacheOptions) {
    this.now = options.now ?? Date.now;
    this.memory = new MemoryTier(options.memoryMaxBytes, this.now);
    this.coalescer = new Coalescer(options.coalesceWaitMs);
    this.metrics = options.registry
      ? new CacheMetrics(options.registry, options.gatewayId, {
          memoryBytes: () => this.memory.bytes,
          memoryEntries: () => this.memory.size,
          evictions: () => this.memory.evictions + (this.semanticCache?.index.evictions ?? 0),
          semanticEntries: () => this.semanticCache?.index.size ?? 0,
        })
      : undefined;
    this.ready = this.start().catch((error: unknown) => options.logger.warn({ err: error }, 'cache: start-up incomplete (semantic warm-up or replica announcements unavailable)'));
  }

  get gatewayId(): number {
    return this.options.gatewayId;
  }

  /** Announcements from other replicas are arriving (true without a shared store). */
  get subscribedToReplicas(): boolean {
    return this.options.store?.subscribed ?? true;
  }

  /** The semantic cache, once it can serve. */
  get semantic(): SemanticCache | undefined {
    return this.semanticCache;
  }

  private async start(): Promise<void> {
    const store = this.options.store;
    await store?.onAnnouncement((announcement) => this.onAnnouncement(announcement)).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'cache: not subscribed to replica announcements');
    });
    const semantic = await this.options.semantic;
    if (!semantic || this.closed) return;
    if (store) {
      const entries = await store.semanticEntries(semantic.index.capacity);
      // Newest first from the store; indexed oldest first so eviction keeps the newest.
      for (let index = entries.length - 1; index >= 0; index--) {
        const entry = entries[index];
        if (entry) semantic.add(entry);
      }
    }
    this.semanticCache = semantic;
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const now = this.now();
    const held = this.memory.get(key, now);
    if (held) return held;
    const store = this.options.store;
    if (!store) return undefined;
    try {
      const entry = await store.get(key);
      if (!entry || entry.expiresAt <= now) return undefined;
      this.memory.set(entry, Buffer.byteLength(entry.raw) + 256, now);
      return entry;
    } catch (error) {
      this.backendError('get', error);
      return undefined;
    }
  }

  completionOf(entry: CacheEntry): ChatCompletion {
    let completion = this.completions.get(entry);
    if (!completion) this.completions.set(entry, (completion = entryCompletion(entry)));
    return completion;
  }

  /** Stores an entry in L1 and L2 and indexes it; returns false (and stores nothing) when it is over the size limit. */
  put(entry: CacheEntry): boolean {
    const bytes = Buffer.byteLength(entry.raw) + (entry.semantic ? entry.semantic.text.length + entry.semantic.vector.length : 0) + 256;
    if (bytes > this.options.maxEntryBytes) {
      publishCacheEvent({ gatewayId: this.gatewayId, type: 'store-skipped', reason: 'too-large' });
      return false;
    }
    this.memory.set(entry, bytes, this.now());
    if (entry.semantic) this.semanticCache?.add(entry);
    publishCacheEvent({ gatewayId: this.gatewayId, type: 'store', bytes });
    const store = this.options.store;
    if (store) {
      store
        .set(entry)
        .then(() => (entry.semantic ? store.announce({ type: 'put', key: entry.key }) : undefined))
        .catch((error: unknown) => this.backendError('set', error));
    }
    return true;
  }

  async purge(filter: PurgeFilter): Promise<PurgeResult> {
    const result: PurgeResult = { memory: this.memory.purge(filter), store: 0, semantic: this.purgeSemantic(filter) };
    const store = this.options.store;
    if (store) {
      result.store = await store.purge(filter);
      await store.announce({ type: 'purge', filter }).catch((error: unknown) => this.backendError('announce', error));
    }
    return result;
  }

  private purgeSemantic(filter: PurgeFilter): number {
    return this.semanticCache?.index.removeWhere((key) => keyMatches(key, filter)) ?? 0;
  }

  private onAnnouncement(announcement: CacheAnnouncement): void {
    if (announcement.type === 'purge') {
      this.memory.purge(announcement.filter);
      this.purgeSemantic(announcement.filter);
      return;
    }
    const semantic = this.semanticCache;
    const store = this.options.store;
    if (!semantic || !store) return;
    store
      .get(announcement.key)
      .then((entry) => {
        if (entry && entry.expiresAt > this.now()) semantic.add(entry);
      })
      .catch((error: unknown) => this.backendError('get', error));
  }

  backendError(operation: string, error: unknown): void {
    publishCacheEvent({ gatewayId: this.gatewayId, type: 'backend-error', operation });
    this.options.logger.debug({ err: error, operation }, 'cache: L2 operation failed; going on without it');
  }

  async close(): Promise<void> {
    this.closed = true;
    this.metrics?.close();
    await this.options.store?.close();
  }
}
