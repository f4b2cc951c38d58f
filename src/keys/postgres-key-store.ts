// Virtual keys in PostgreSQL, shared by every replica.
import type pg from 'pg';
import { migratePostgres } from '../accounting/postgres-migration.js';
import type { KeyRecord, KeyStore } from './key-record.js';
import { fromRow, type KeyRow } from './sqlite-key-store.js';

export class PostgresKeyStore implements KeyStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly ownsPool: boolean,
    private readonly table = 'bw_keys',
  ) {}

  async migrate(): Promise<void> {
    await migratePostgres(
      this.pool,
      `CREATE TABLE IF NOT EXISTS ${this.table} (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        name TEXT,
        team TEXT,
        user_id TEXT,
        tier TEXT,
        models TEXT,
        rpm INTEGER,
        tpm INTEGER,
        concurrency INTEGER,
        budgets TEXT NOT NULL,
        expires_at BIGINT,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
      )`,
    );
  }

  async insert(record: KeyRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.table} (id, hash, prefix, name, team, user_id, tier, models, rpm, tpm, concurrency, budgets, expires_at, created_at, revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        record.id,
        record.hash,
        record.prefix,
        record.name,
        record.team,
        record.user,
        record.tier,
        record.models ? JSON.stringify(record.models) : null,
        record.rpm,
        record.tpm,
        record.concurrency,
        JSON.stringify(record.budgets),
        record.expiresAt,
        record.createdAt,
        record.revokedAt,
      ],
    );
  }

  async findByHash(hash: string): Promise<KeyRecord | undefined> {
    const result = await this.pool.query<KeyRow>(`SELECT * FROM ${this.table} WHERE hash = $1`, [hash]);
    return result.rows[0] ? fromRow(result.rows[0]) : undefined;
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    const result = await this.pool.query<KeyRow>(`SELECT * FROM ${this.table} WHERE id = $1`, [id]);
    return result.rows[0] ? fromRow(result.rows[0]) : undefined;
  }

  async list(includeRevoked: boolean, limit = 1_000): Promise<KeyRecord[]> {
    const where = includeRevoked ? '' : 'WHERE revoked_at IS NULL';
    const result = await this.pool.query<KeyRow>(`SELECT * FROM ${this.table} ${where} ORDER BY created_at, id LIMIT $1`, [limit]);
    return result.rows.map(fromRow);
  }

  async revoke(id: string, at: number): Promise<KeyRecord | undefined> {
    const result = await this.pool.query<KeyRow>(`UPDATE ${this.table} SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING *`, [at, id]);
    return result.rows[0] ? fromRow(result.rows[0]) : undefined;
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}
