// Virtual keys in the embedded SQLite file.
import { releaseSqlite, type SqliteDatabase } from '../store/sqlite.js';
import type { KeyRecord, KeyStore } from './key-record.js';

interface Row {
  id: string;
  hash: string;
  prefix: string;
  name: string | null;
  team: string | null;
  user_id: string | null;
  tier: string | null;
  models: string | null;
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
  budgets: string;
  expires_at: number | null;
  created_at: number;
  revoked_at: number | null;
}

export class SqliteKeyStore implements KeyStore {
  constructor(
    private readonly database: SqliteDatabase,
    private readonly table = 'bw_keys',
  ) {}

  async migrate(): Promise<void> {
    this.database.exec(`
      CREATE TABLE IF NOT EXISTS ${this.table} (
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
        expires_at INTEGER,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      )`);
  }

  async insert(record: KeyRecord): Promise<void> {
    this.database
      .prepare(
        `INSERT INTO ${this.table} (id, hash, prefix, name, team, user_id, tier, models, rpm, tpm, concurrency, budgets, expires_at, created_at, revoked_at)
         VALUES (@id, @hash, @prefix, @name, @team, @user, @tier, @models, @rpm, @tpm, @concurrency, @budgets, @expiresAt, @createdAt, @revokedAt)`,
      )
      .run({ ...record, models: record.models ? JSON.stringify(record.models) : null, budgets: JSON.stringify(record.budgets) });
  }

  async findByHash(hash: string): Promise<KeyRecord | undefined> {
    const row = this.database.prepare(`SELECT * FROM ${this.table} WHERE hash = ?`).get(hash) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    const row = this.database.prepare(`SELECT * FROM ${this.table} WHERE id = ?`).get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async list(includeRevoked: boolean, limit = 1_000): Promise<KeyRecord[]> {
    const where = includeRevoked ? '' : 'WHERE revoked_at IS NULL';
    return (this.database.prepare(`SELECT * FROM ${this.table} ${where} ORDER BY created_at, id LIMIT ?`).all(limit) as Row[]).map(fromRow);
  }

  async revoke(id: string, at: number): Promise<KeyRecord | undefined> {
    const changed = this.database.prepare(`UPDATE ${this.table} SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`).run(at, id).changes;
    return changed > 0 ? this.get(id) : undefined;
  }

  async close(): Promise<void> {
    releaseSqlite(this.database);
  }
}

export function fromRow(row: Row): KeyRecord {
  return {
    id: row.id,
    hash: row.hash,
    prefix: row.prefix,
    name: row.name,
    team: row.team,
    user: row.user_id,
    tier: row.tier,
    models: row.models ? (JSON.parse(row.models) as string[]) : null,
    rpm: row.rpm,
    tpm: row.tpm,
    concurrency: row.concurrency,
    budgets: JSON.parse(row.budgets) as KeyRecord['budgets'],
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    createdAt: Number(row.created_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}

export type KeyRow = Row;
