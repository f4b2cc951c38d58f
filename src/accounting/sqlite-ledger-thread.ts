// The SQLite spend ledger run by a worker thread: it owns its own better-sqlite3 connection (WAL) and does the inserts
// and the report queries, so no ledger statement runs on the gateway's event loop. Started on first use.
import { WorkerCalls } from '../core/module-worker.js';
import type { Grouping, SpendLedger, SpendRecord, SpendRow, SpendScope, TimeRange } from './spend-ledger.js';

/** What the main thread asks the worker (one at a time per message; the worker answers each by id). */
export type LedgerRequest = { id: number } & (
  | { op: 'insert'; records: readonly SpendRecord[] }
  | { op: 'report'; groupBy: Grouping; range: TimeRange; limit: number | undefined }
  | { op: 'total'; range: TimeRange }
  | { op: 'spendOf'; scope: SpendScope; subject: string; from: number }
  | { op: 'close' }
);

type Body = LedgerRequest extends infer Request ? (Request extends { id: number } ? Omit<Request, 'id'> : never) : never;

export interface ThreadedSqliteLedgerOptions {
  table?: string;
  /** The worker died (crash, out of memory): pending calls fail (the writer retries them) and a new one starts next call. */
  onError?: (message: string, error: unknown) => void;
}

export class ThreadedSqliteLedger implements SpendLedger {
  private readonly calls: WorkerCalls;

  constructor(path: string, options: ThreadedSqliteLedgerOptions = {}) {
    if (path === ':memory:') throw new Error('an in-memory SQLite database cannot be shared with a worker thread');
    this.calls = new WorkerCalls({
      callerUrl: import.meta.url,
      module: 'sqlite-ledger-worker',
      name: 'breakwater-spend-ledger',
      workerData: { path, table: options.table ?? 'bw_spend' },
      onLost: (error) => options.onError?.('spend ledger worker stopped; a new one starts with the next batch', error),
    });
  }

  /** The worker creates the table before its first statement; nothing to do (and no thread to start) yet. */
  async migrate(): Promise<void> {}

  async insert(records: readonly SpendRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.call({ op: 'insert', records });
  }

  report(groupBy: Grouping, range: TimeRange, limit?: number): Promise<SpendRow[]> {
    return this.call({ op: 'report', groupBy, range, limit }) as Promise<SpendRow[]>;
  }

  total(range: TimeRange): Promise<Omit<SpendRow, 'group'>> {
    return this.call({ op: 'total', range }) as Promise<Omit<SpendRow, 'group'>>;
  }

  spendOf(scope: SpendScope, subject: string, from: number): Promise<{ costUsd: number; tokens: number }> {
    return this.call({ op: 'spendOf', scope, subject, from }) as Promise<{ costUsd: number; tokens: number }>;
  }

  /** After the writer's last flush: the worker closes its connection (checkpointing the WAL) and the thread ends. */
  close(): Promise<void> {
    return this.calls.close({ op: 'close' } satisfies Body);
  }

  /** True while the worker thread is running (tests; idle gateways have none). */
  get running(): boolean {
    return this.calls.running;
  }

  private call(body: Body): Promise<unknown> {
    return this.calls.call(body);
  }
}
