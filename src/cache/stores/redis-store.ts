// L2 in Redis, shared by every replica: entries as JSON strings with a PX expiry, a sorted set of semantic
// entries (by expiry) for warm-up, and a pub/sub channel announcing new entries and purges to the other replicas.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { parseEntry, type CacheEntry } from '../cache-entry.js';
import type { CacheAnnouncement, PurgeFilter, SharedStore } from './shared-store.js';

const readyTimeoutMs = 2_000;
const scanCount = 500;
const fetchBatch = 100;

export class RedisStore implements SharedStore {
  readonly kind = 'redis';
  /** Tells this replica's own announcements apart from the others'. */
  private readonly origin = randomUUID();
  private subscriber: Redis | undefined;
  subscribed = false;

  constructor(
    private readonly client: Redis,
    private readonly createSubscriber: () => Redis,
    /** e.g. `bw:cache:`. */
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  private entryKey(key: string): string {
    return `${this.prefix}e:${key}`;
  }

  private get semanticSet(): string {
    return `${this.prefix}semantic`;
  }

  private get channel(): string {
    return `${this.prefix}events`;
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const text = await this.client.get(this.entryKey(key));
    return text === null ? undefined : parseEntry(text);
  }

  async set(entry: CacheEntry): Promise<void> {
    const ttlMs = Math.max(1, entry.expiresAt - this.now());
    const pipeline = this.client.multi().set(this.entryKey(entry.key), JSON.stringify(entry), 'PX', ttlMs);
    if (entry.semantic) pipeline.zadd(this.semanticSet, entry.expiresAt, entry.key);
    await pipeline.exec();
  }

  async purge(filter: PurgeFilter): Promise<number> {
    if (filter.key !== undefined) {
      const [removed] = await Promise.all([this.client.unlink(this.entryKey(filter.key)), this.client.zrem(this.semanticSet, filter.key)]);
      return removed;
    }
    const pattern = `${this.prefix}e:${filter.namespace ?? '*'}:${filter.tenant ?? '*'}:*`;
    let cursor = '0';
    let removed = 0;
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', pattern, 'COUNT', scanCount);
      cursor = next;
      if (keys.length > 0) {
        removed += await this.client.unlink(...keys);
        await this.client.zrem(this.semanticSet, ...keys.map((key) => key.slice(this.prefix.length + 2)));
      }
    } while (cursor !== '0');
    return removed;
  }

  async semanticEntries(limit: number): Promise<CacheEntry[]> {
    await this.client.zremrangebyscore(this.semanticSet, '-inf', this.now());
    const keys = await this.client.zrevrange(this.semanticSet, 0, limit - 1);
    const entries: CacheEntry[] = [];
    for (let start = 0; start < keys.length; start += fetchBatch) {
      const texts = await this.client.mget(...keys.slice(start, start + fetchBatch).map((key) => this.entryKey(key)));
      for (const text of texts) {
        const entry = text === null ? undefined : parseEntry(text);
        if (entry?.semantic) entries.push(entry);
      }
    }
    return entries;
  }

  async announce(announcement: CacheAnnouncement): Promise<void> {
    await this.client.publish(this.channel, JSON.stringify({ origin: this.origin, ...announcement }));
  }

  async onAnnouncement(listener: (announcement: CacheAnnouncement) => void): Promise<void> {
    const subscriber = (this.subscriber = this.createSubscriber());
    subscriber.on('message', (_channel: string, text: string) => {
      try {
        const message = JSON.parse(text) as CacheAnnouncement & { origin?: string };
        if (message.origin !== this.origin) listener(message);
      } catch {
        // Not ours: ignore.
      }
    });
    // Subscribe whenever the connection is ready until it has worked once (ioredis re-subscribes by itself after
    // that): a subscriber that is slow to connect at start-up joins late instead of missing every announcement for
    // the life of the process.
    const subscribed = new Promise<void>((resolve) => {
      const attempt = () => {
        if (this.subscribed) return;
        subscriber.subscribe(this.channel).then(
          () => {
            this.subscribed = true;
            subscriber.off('ready', attempt);
            resolve();
          },
          () => undefined, // not connected yet: the next 'ready' tries again
        );
      };
      subscriber.on('ready', attempt);
      if (subscriber.status === 'ready') attempt();
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([subscribed, new Promise((_, reject) => (timer = setTimeout(reject, readyTimeoutMs, new Error('redis subscriber not ready yet (it subscribes when Redis answers)'))))]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.client.disconnect();
  }
}
