// "Once per threshold per period", also across replicas: an alert is sent only by whoever first claims its id —
// atomically in Redis (SET NX), PostgreSQL or SQLite (INSERT … ON CONFLICT DO NOTHING).
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { SqliteDatabase } from '../store/sqlite.js';
import { migratePostgres } from './postgres-migration.js';

export interface AlertClaims {
  /** True for exactly one caller per id (until `ttlMs` passes). */
  claim(id: string, ttlMs: number): Promise<boolean>;
}

export class RedisAlertClaims implements AlertClaims {
  constructor(
    private readonly client: Redis,
    private readonly keyPrefix: string,
  ) {}

  async claim(id: string, ttlMs: number): Promise<boolean> {
    return (await this.client.set(`${this.keyPrefix}alert:${id}`, String(Date.now()), 'PX', ttlMs, 'NX')) === 'OK';
  }
}

export class PostgresAlertClaims implements AlertClaims {
  private migrated: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly table = 'bw_alert_claims',
  ) {}

  async claim(id: string, _ttlMs: number): Promise<boolean> {
    this.migrated ??= migratePostgres(this.pool, `CREATE TABLE IF NOT EXISTS ${this.table} (id TEXT PRIMARY KEY, claimed_at BIGINT NOT NULL)`);
    await this.migrated;
    const result = await this.pool.query(`INSERT INTO ${this.table} (id, claimed_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, [id, Date.now()]);
    return result.rowCount === 1;
  }
}

export class SqliteAlertClaims implements AlertClaims {
  private migrated = false;

  constructor(
    private readonly database: SqliteDatabase,
    private readonly table = 'bw_alert_claims',
  ) {}

  async claim(id: string, _ttlMs: number): Promise<boolean> {
    if (!this.migrated) {
      this.database.exec(`CREATE TABLE IF NOT EXISTS ${this.table} (id TEXT PRIMARY KEY, claimed_at INTEGER NOT NULL)`);
      this.migrated = true;
    }
    return this.database.prepare(`INSERT OR IGNORE INTO ${this.table} (id, claimed_at) VALUES (?, ?)`).run(id, Date.now()).changes === 1;
  }
}

/** Uses the shared claims; if they cannot be reached, claims locally (an alert may then repeat once per replica). */
export class FallbackAlertClaims implements AlertClaims {
  private readonly local = new Set<string>();

  constructor(private readonly shared: AlertClaims) {}

  async claim(id: string, ttlMs: number): Promise<boolean> {
    try {
      return await this.shared.claim(id, ttlMs);
    } catch {
      if (this.local.has(id)) return false;
      if (this.local.size > 10_000) this.local.clear();
      this.local.add(id);
      return true;
    }
  }
}
