// Idempotency records in the embedded SQLite store: one row per key, claimed in a transaction.
import { openSqlite, releaseSqlite, type SqliteDatabase } from '../../store/sqlite.js';
import type { Clock } from '../clock.js';
import type { BeginResult, IdempotencyStore, StoredResponse } from './store.js';

interface Row {
  fingerprint: string;
  state: 'in-flight' | 'done';
  response: string | null;
  expires_at: number;
}

export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly database: SqliteDatabase;
  private readonly claim: (key: string, fingerprint: string, lockTtlMs: number) => BeginResult;
  private readonly finish;
  private readonly drop;
  private readonly sweep;
  private lastSweep = 0;

  constructor(
    path: string,
    private readonly clock: Clock,
  ) {
    this.database = openSqlite(path);
    this.database.exec(`CREATE TABLE IF NOT EXISTS idempotency (
      key TEXT PRIMARY KEY,
      fingerprint TEXT NOT NULL,
      state TEXT NOT NULL,
      response TEXT,
      expires_at INTEGER NOT NULL
    )`);
    const select = this.database.prepare<[string], Row>('SELECT fingerprint, state, response, expires_at FROM idempotency WHERE key = ?');
    const upsert = this.database.prepare('INSERT INTO idempotency (key, fingerprint, state, response, expires_at) VALUES (?, ?, \'in-flight\', NULL, ?) ON CONFLICT(key) DO UPDATE SET fingerprint = excluded.fingerprint, state = \'in-flight\', response = NULL, expires_at = excluded.expires_at');
    this.claim = this.database.transaction((key: string, fingerprint: string, lockTtlMs: number): BeginResult => {
      const now = this.clock.now();
      const row = select.get(key);
      if (row && row.expires_at > now) {
        if (row.state === 'done' && row.response !== null) return { state: 'done', fingerprint: row.fingerprint, response: JSON.parse(row.response) as StoredResponse };
        return { state: 'in-flight', fingerprint: row.fingerprint };
      }
      // Absent, or expired (an answer past its TTL, or the lock of a holder that crashed).
      upsert.run(key, fingerprint, now + lockTtlMs);
      return { state: 'acquired' };
    });
    this.finish = this.database.prepare('UPDATE idempotency SET state = \'done\', response = ?, expires_at = ? WHERE key = ? AND fingerprint = ? AND state = \'in-flight\'');
    this.drop = this.database.prepare('DELETE FROM idempotency WHERE key = ? AND fingerprint = ? AND state = \'in-flight\'');
    this.sweep = this.database.prepare('DELETE FROM idempotency WHERE expires_at <= ?');
  }

  async begin(key: string, fingerprint: string, lockTtlMs: number): Promise<BeginResult> {
    this.sweepExpired();
    return this.claim(key, fingerprint, lockTtlMs);
  }

  async complete(key: string, fingerprint: string, response: StoredResponse, ttlMs: number): Promise<void> {
    this.finish.run(JSON.stringify(response), this.clock.now() + ttlMs, key, fingerprint);
  }

  async release(key: string, fingerprint: string): Promise<void> {
    this.drop.run(key, fingerprint);
  }

  async close(): Promise<void> {
    releaseSqlite(this.database);
  }

  /** Expired rows are removed at most once a minute, so the table stays bounded by the TTL. */
  private sweepExpired(): void {
    const now = this.clock.now();
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    this.sweep.run(now);
  }
}
