// L1: the in-process LRU, bounded by bytes (each entry weighs its serialised size), expiring by each entry's TTL.
import { LRUCache } from 'lru-cache';
import type { CacheEntry } from '../cache-entry.js';
import { keyMatches, type PurgeFilter } from './shared-store.js';

interface Held {
  entry: CacheEntry;
  bytes: number;
}

export class MemoryTier {
  private readonly lru: LRUCache<string, Held> | undefined;
  evictions = 0;

  constructor(maxBytes: number, now: () => number = Date.now) {
    if (maxBytes <= 0) return;
    this.lru = new LRUCache<string, Held>({
      maxSize: maxBytes,
      sizeCalculation: (held) => Math.max(1, held.bytes),
      // TTLs are checked against the entry's own expiry on read; lru-cache's ttl keeps memory from holding dead ones.
      ttlAutopurge: false,
      perf: { now },
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') this.evictions++;
      },
    });
  }

  get(key: string, now: number): CacheEntry | undefined {
    const held = this.lru?.get(key);
    if (!held) return undefined;
    if (held.entry.expiresAt <= now) {
      this.lru?.delete(key);
      return undefined;
    }
    return held.entry;
  }

  set(entry: CacheEntry, bytes: number, now: number): void {
    if (!this.lru || bytes > this.lru.maxSize) return;
    this.lru.set(entry.key, { entry, bytes }, { ttl: Math.max(1, entry.expiresAt - now) });
  }

  purge(filter: PurgeFilter): number {
    if (!this.lru) return 0;
    let removed = 0;
    for (const key of [...this.lru.keys()]) if (keyMatches(key, filter) && this.lru.delete(key)) removed++;
    return removed;
  }

  get bytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }
}
