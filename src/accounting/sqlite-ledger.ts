// The spend ledger in the embedded SQLite file: batches insert in one transaction. The gateway runs it inside its
// worker thread (sqlite-ledger-worker.ts); the CLI's report and in-memory databases use it directly.
import type { Statement } from 'better-sqlite3';
import { releaseSqlite, type SqliteDatabase } from '../store/sqlite.js';
import { defaultReportLimit, groupColumns, scopeColumns, type Grouping, type SpendLedger, type SpendRecord, type SpendRow, type SpendScope, type TimeRange } from './spend-ledger.js';

interface RowShape {
  grp: string | null;
  requests: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cost_usd: number | null;
}

export class SqliteLedger implements SpendLedger {
  private insertStatement: Statement | undefined;

  constructor(
    private readonly database: SqliteDatabase,
    private readonly table = 'bw_spend',
  ) {}

  async migrate(): Promise<void> {
    this.database.exec(`
      CREATE TABLE IF NOT EXISTS ${this.table} (
        id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL,
        ts INTEGER NOT NULL,
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
        cost_usd REAL NOT NULL,
        latency_ms REAL NOT NULL,
        status INTEGER NOT NULL,
        error_code TEXT,
        stream INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS ${this.table}_ts ON ${this.table} (ts);
      CREATE INDEX IF NOT EXISTS ${this.table}_key_ts ON ${this.table} (key_id, ts);
      CREATE INDEX IF NOT EXISTS ${this.table}_user_ts ON ${this.table} (user_id, ts);
      CREATE INDEX IF NOT EXISTS ${this.table}_team_ts ON ${this.table} (team, ts);
      CREATE INDEX IF NOT EXISTS ${this.table}_session_ts ON ${this.table} (session_id, ts);
    `);
  }

  async insert(records: readonly SpendRecord[]): Promise<void> {
    this.insertStatement ??= this.database.prepare(
      `INSERT OR IGNORE INTO ${this.table} (id, request_id, ts, key_id, user_id, team, session_id, model, provider, route, prompt_tokens, completion_tokens, cached_tokens, cost_usd, latency_ms, status, error_code, stream)
       VALUES (@id, @requestId, @timestamp, @keyId, @user, @team, @session, @model, @provider, @route, @promptTokens, @completionTokens, @cachedTokens, @costUsd, @latencyMs, @status, @errorCode, @stream)`,
    );
    const statement = this.insertStatement;
    this.database.transaction((batch: readonly SpendRecord[]) => {
      for (const record of batch) statement.run({ ...record, stream: record.stream ? 1 : 0 });
    })(records);
  }

  async report(groupBy: Grouping, range: TimeRange, limit = defaultReportLimit): Promise<SpendRow[]> {
    const column = groupColumns[groupBy];
    const rows = this.database
      .prepare(
        `SELECT ${column} AS grp, COUNT(*) AS requests, SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens, SUM(cost_usd) AS cost_usd
         FROM ${this.table} WHERE ts >= ? AND ts < ? GROUP BY ${column} ORDER BY cost_usd DESC, grp LIMIT ?`,
      )
      .all(range.from, range.to, limit) as RowShape[];
    return rows.map(toRow);
  }

  async total(range: TimeRange): Promise<Omit<SpendRow, 'group'>> {
    const row = this.database
      .prepare(`SELECT NULL AS grp, COUNT(*) AS requests, SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens, SUM(cost_usd) AS cost_usd FROM ${this.table} WHERE ts >= ? AND ts < ?`)
      .get(range.from, range.to) as RowShape;
    const { group: _group, ...totals } = toRow(row);
    return totals;
  }

  async spendOf(scope: SpendScope, subject: string, from: number): Promise<{ costUsd: number; tokens: number }> {
    const where = scope === 'global' ? 'ts >= @from' : `${scopeColumns[scope]} = @subject AND ts >= @from`;
    const row = this.database.prepare(`SELECT SUM(cost_usd) AS cost, SUM(prompt_tokens + completion_tokens) AS tokens FROM ${this.table} WHERE ${where}`).get({ subject, from }) as {
      cost: number | null;
      tokens: number | null;
    };
    return { costUsd: row.cost ?? 0, tokens: row.tokens ?? 0 };
  }

  async close(): Promise<void> {
    releaseSqlite(this.database);
  }
}

function toRow(row: RowShape): SpendRow {
  return { group: row.grp, requests: row.requests, promptTokens: row.prompt_tokens ?? 0, completionTokens: row.completion_tokens ?? 0, costUsd: Math.round((row.cost_usd ?? 0) * 1e10) / 1e10 };
}
