// The spend ledger in PostgreSQL (shared by replicas): one multi-row INSERT per batch, ON CONFLICT DO NOTHING.
import type pg from 'pg';
import { migratePostgres } from './postgres-migration.js';
import { defaultReportLimit, groupColumns, scopeColumns, type Grouping, type SpendLedger, type SpendRecord, type SpendRow, type SpendScope, type TimeRange } from './spend-ledger.js';

const columns = ['id', 'request_id', 'ts', 'key_id', 'user_id', 'team', 'session_id', 'model', 'provider', 'route', 'prompt_tokens', 'completion_tokens', 'cached_tokens', 'cost_usd', 'latency_ms', 'status', 'error_code', 'stream'];

interface RowShape {
  grp: string | null;
  requests: string;
  prompt_tokens: string | null;
  completion_tokens: string | null;
  cost_usd: number | null;
}

export class PostgresLedger implements SpendLedger {
  private migrated: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly ownsPool: boolean,
    private readonly table = 'bw_spend',
  ) {}

  /** Idempotent; a failure (store down at start-up) is retried by the next insert. */
  migrate(): Promise<void> {
    this.migrated ??= this.createTable().catch((error: unknown) => {
      this.migrated = undefined;
      throw error;
    });
    return this.migrated;
  }

  private async createTable(): Promise<void> {
    await migratePostgres(
      this.pool,
      `
      CREATE TABLE IF NOT EXISTS ${this.table} (
        id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL,
        ts BIGINT NOT NULL,
        key_id TEXT NOT NULL,
        user_id TEXT,
        team TEXT,
        session_id TEXT,
        model TEXT,
        provider TEXT,
        route TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cached_tokens INTEGER NOT NULL,
        cost_usd DOUBLE PRECISION NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL,
        status INTEGER NOT NULL,
        error_code TEXT,
        stream BOOLEAN NOT NULL
      );
      CREATE INDEX IF NOT EXISTS ${this.table}_ts ON ${this.table} (ts);
      CREATE INDEX IF NOT EXISTS ${this.table}_key_ts ON ${this.table} (key_id, ts);
      CREATE INDEX IF NOT EXISTS ${this.table}_user_ts ON ${this.table} (user_id, ts);
      CREATE INDEX IF NOT EXISTS ${this.table}_team_ts ON ${this.table} (team, ts);
      CREATE INDEX IF NOT EXISTS ${this.table}_session_ts ON ${this.table} (session_id, ts);
    `,
    );
  }

  async insert(records: readonly SpendRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.migrate();
    const values: unknown[] = [];
    const rows = records.map((record) => {
      const base = values.length;
      values.push(
        record.id,
        record.requestId,
        record.timestamp,
        record.keyId,
        record.user,
        record.team,
        record.session,
        record.model,
        record.provider,
        record.route,
        record.promptTokens,
        record.completionTokens,
        record.cachedTokens,
        record.costUsd,
        record.latencyMs,
        record.status,
        record.errorCode,
        record.stream,
      );
      return `(${columns.map((_column, index) => `$${base + index + 1}`).join(', ')})`;
    });
    await this.pool.query(`INSERT INTO ${this.table} (${columns.join(', ')}) VALUES ${rows.join(', ')} ON CONFLICT (id) DO NOTHING`, values);
  }

  async report(groupBy: Grouping, range: TimeRange, limit = defaultReportLimit): Promise<SpendRow[]> {
    const column = groupColumns[groupBy];
    const result = await this.pool.query<RowShape>(
      `SELECT ${column} AS grp, COUNT(*) AS requests, SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens, SUM(cost_usd) AS cost_usd
       FROM ${this.table} WHERE ts >= $1 AND ts < $2 GROUP BY ${column} ORDER BY cost_usd DESC, grp LIMIT $3`,
      [range.from, range.to, limit],
    );
    return result.rows.map(toRow);
  }

  async total(range: TimeRange): Promise<Omit<SpendRow, 'group'>> {
    const result = await this.pool.query<RowShape>(
      `SELECT NULL AS grp, COUNT(*) AS requests, SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens, SUM(cost_usd) AS cost_usd FROM ${this.table} WHERE ts >= $1 AND ts < $2`,
      [range.from, range.to],
    );
    const { group: _group, ...totals } = toRow(result.rows[0] as RowShape);
    return totals;
  }

  async spendOf(scope: SpendScope, subject: string, from: number): Promise<{ costUsd: number; tokens: number }> {
    const result =
      scope === 'global'
        ? await this.pool.query<{ cost: number | null; tokens: string | null }>(`SELECT SUM(cost_usd) AS cost, SUM(prompt_tokens + completion_tokens) AS tokens FROM ${this.table} WHERE ts >= $1`, [from])
        : await this.pool.query<{ cost: number | null; tokens: string | null }>(
            `SELECT SUM(cost_usd) AS cost, SUM(prompt_tokens + completion_tokens) AS tokens FROM ${this.table} WHERE ${scopeColumns[scope]} = $1 AND ts >= $2`,
            [subject, from],
          );
    const row = result.rows[0];
    return { costUsd: row?.cost ?? 0, tokens: Number(row?.tokens ?? 0) };
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}

function toRow(row: RowShape): SpendRow {
  return {
    group: row.grp,
    requests: Number(row.requests),
    promptTokens: Number(row.prompt_tokens ?? 0),
    completionTokens: Number(row.completion_tokens ?? 0),
    costUsd: Math.round((row.cost_usd ?? 0) * 1e10) / 1e10,
  };
}
