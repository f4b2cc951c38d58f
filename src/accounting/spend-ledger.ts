// The spend-ledger contract (SQLite embedded, PostgreSQL scale-out): one record per served request, idempotent by
// record id (a replayed batch never counts twice), and the queries the spend report, budgets and anomaly alerts need.

export interface SpendRecord {
  /** Unique per record (a client may reuse an x-request-id): what makes replays idempotent. */
  id: string;
  requestId: string;
  /** When the request ended, ms since the epoch. */
  timestamp: number;
  keyId: string;
  user: string | null;
  team: string | null;
  session: string | null;
  model: string | null;
  provider: string | null;
  route: string;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
  latencyMs: number;
  status: number;
  errorCode: string | null;
  stream: boolean;
}

export const groupings = ['key', 'user', 'team', 'model', 'session', 'provider'] as const;
export type Grouping = (typeof groupings)[number];

export interface TimeRange {
  /** Inclusive, ms since the epoch. */
  from: number;
  /** Exclusive, ms since the epoch. */
  to: number;
}

export interface SpendRow {
  /** The group's value (`null` when the records had none, e.g. no user). */
  group: string | null;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export type SpendScope = 'key' | 'user' | 'team' | 'session' | 'global';

export interface SpendLedger {
  /** Creates the table and indexes if missing. */
  migrate(): Promise<void>;
  /** Inserts records; a record whose id is already there is skipped. */
  insert(records: readonly SpendRecord[]): Promise<void>;
  report(groupBy: Grouping, range: TimeRange, limit?: number): Promise<SpendRow[]>;
  total(range: TimeRange): Promise<Omit<SpendRow, 'group'>>;
  /** Spend of one subject since `from` (seeds budget counters after a restart or a Redis flush). */
  spendOf(scope: SpendScope, subject: string, from: number): Promise<{ costUsd: number; tokens: number }>;
  close(): Promise<void>;
}

/** The column each grouping reads. */
export const groupColumns: Record<Grouping, string> = {
  key: 'key_id',
  user: 'user_id',
  team: 'team',
  model: 'model',
  session: 'session_id',
  provider: 'provider',
};

export const scopeColumns: Record<Exclude<SpendScope, 'global'>, string> = {
  key: 'key_id',
  user: 'user_id',
  team: 'team',
  session: 'session_id',
};

/** Default bound on the rows of one report. */
export const defaultReportLimit = 1_000;
