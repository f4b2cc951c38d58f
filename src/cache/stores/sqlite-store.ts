// L2 in the embedded SQLite file: survives restarts of a single-process deployment. Reads are one indexed
// lookup (microseconds, page-cached); writes are batched off the response path; rows are bounded and swept.
import type { Statement } from 'better-sqlite3';
import { parseEntry, type CacheEntry } from '../cache-entry.js';
import { releaseSqlite, type SqliteDatabase } from '../../store/sqlite.js';
import type { CacheAnnouncement, PurgeFilter, SharedStore } from './shared-store.js';

const sweepIntervalMs = 60_000;
/** Writes waiting for the next batch; past this, new ones are dropped (the cache is an optimisation, never a queue). */
const maxPendingWrites = 1_000;

export class SqliteStore implements SharedStore {
  readonly kind = 'sqlite';
  private readonly selectOne: Statement<[string, number], { body: string }>;
  private readonly upsert: Statement<[string, string, string, number, number, string]>;
  private readonly pending: CacheEntry[] = [];
  private flushScheduled = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly database: SqliteDatabase,
    private readonly table: string,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new Error(`invalid cache table name ${table}`);
    database.exec(`CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, namespace TEXT NOT NULL, tenant TEXT NOT NULL, expires_at INTEGER NOT NULL, semantic INTEGER NOT NULL, body TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS ${table}_expiry ON ${table} (expires_at);`);
    this.selectOne = database.prepare(`SELECT body FROM ${table} WHERE key = ? AND expires_at > ?`);
    this.upsert = database.prepare(`INSERT OR REPLACE INTO ${table} (key, namespace, tenant, expires_at, semantic, body) VALUES (?, ?, ?, ?, ?, ?)`);
    this.sweeper = setInterval(() => this.sweep(), sweepIntervalMs).unref();
  }

  get(key: string): Promise<CacheEntry | undefined> {
    const row = this.selectOne.get(key, this.now());
    return Promise.resolve(row ? parseEntry(row.body) : undefined);
  }

  set(entry: CacheEntry): Promise<void> {
    if (this.pending.length < maxPendingWrites) this.pending.push(entry);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return Promise.resolve();
  }

  /** Writes the pending entries in one transaction. */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || !this.database.open) return;
    const batch = this.pending.splice(0);
    this.database.transaction(() => {
      for (const entry of batch) {
        const [namespace = '', tenant = ''] = entry.key.split(':');
        this.upsert.run(entry.key, namespace, tenant, entry.expiresAt, entry.semantic ? 1 : 0, JSON.stringify(entry));
      }
    })();
  }

  purge(filter: PurgeFilter): Promise<number> {
    this.flush();
    if (filter.key !== undefined) return Promise.resolve(this.database.prepare(`DELETE FROM ${this.table} WHERE key = ?`).run(filter.key).changes);
    const conditions: string[] = [];
    const values: string[] = [];
    if (filter.namespace !== undefined) {
      conditions.push('namespace = ?');
      values.push(filter.namespace);
    }
    if (filter.tenant !== undefined) {
      conditions.push('tenant = ?');
      values.push(filter.tenant);
    }
    const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
    return Promise.resolve(this.database.prepare(`DELETE FROM ${this.table}${where}`).run(...values).changes);
  }

  semanticEntries(limit: number): Promise<CacheEntry[]> {
    this.flush();
    const rows = this.database.prepare(`SELECT body FROM ${this.table} WHERE semantic = 1 AND expires_at > ? ORDER BY expires_at DESC LIMIT ?`).all(this.now(), limit) as Array<{ body: string }>;
    return Promise.resolve(rows.map((row) => parseEntry(row.body)).filter((entry): entry is CacheEntry => entry?.semantic !== undefined));
  }

  /** Drops expired rows, then the soonest-expiring ones beyond the row limit. */
  sweep(): void {
    if (!this.database.open) return;
    this.database.prepare(`DELETE FROM ${this.table} WHERE expires_at <= ?`).run(this.now());
    this.database
      .prepare(`DELETE FROM ${this.table} WHERE key IN (SELECT key FROM ${this.table} ORDER BY expires_at DESC LIMIT -1 OFFSET ?)`)
      .run(this.maxEntries);
  }

  announce(_announcement: CacheAnnouncement): Promise<void> {
    return Promise.resolve();
  }

  /** Only this process uses the file: there is nobody to hear from. */
  readonly subscribed = true;

  onAnnouncement(_listener: (announcement: CacheAnnouncement) => void): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    this.flush();
    releaseSqlite(this.database);
    return Promise.resolve();
  }
}
