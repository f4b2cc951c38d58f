// The L2 contract: a store every replica can read (Redis) or that survives a restart (SQLite), with purges,
// the semantic entries a starting replica warms its index from, and (when shared) announcements between replicas.
import type { CacheEntry } from '../cache-entry.js';

export interface PurgeFilter {
  namespace?: string;
  /** tenantHash() of the tenant. */
  tenant?: string;
  key?: string;
}

export type CacheAnnouncement = { type: 'put'; key: string } | { type: 'purge'; filter: PurgeFilter };

export interface SharedStore {
  readonly kind: 'redis' | 'sqlite';
  get(key: string): Promise<CacheEntry | undefined>;
  set(entry: CacheEntry): Promise<void>;
  purge(filter: PurgeFilter): Promise<number>;
  /** Live semantic entries, newest first, at most `limit`. */
  semanticEntries(limit: number): Promise<CacheEntry[]>;
  /** Tells the other replicas (no-op for a store only this process uses). */
  announce(announcement: CacheAnnouncement): Promise<void>;
  /**
   * Calls `listener` for announcements from other replicas. Resolves once subscribed; rejects if that takes too
   * long, but a store keeps trying in the background and `subscribed` turns true when it succeeds.
   */
  onAnnouncement(listener: (announcement: CacheAnnouncement) => void): Promise<void>;
  /** Announcements from other replicas are arriving (a store only this process uses: always true). */
  readonly subscribed: boolean;
  close(): Promise<void>;
}

/** Whether a `<namespace>:<tenant>:<hash>` key matches a purge filter. */
export function keyMatches(key: string, filter: PurgeFilter): boolean {
  if (filter.key !== undefined) return key === filter.key;
  const [namespace, tenant] = key.split(':');
  if (filter.namespace !== undefined && namespace !== filter.namespace) return false;
  if (filter.tenant !== undefined && tenant !== filter.tenant) return false;
  return true;
}
