// The SQLite spend ledger run by a worker thread: it owns its own better-sqlite3 connection (WAL) and does the inserts
// and the report queries, so no ledger statement runs on the gateway's event loop. Started on first use.
import { Worker } from 'node:worker_threads';
import type { Grouping, SpendLedger, SpendRecord, SpendRow, SpendScope, TimeRange } from './spend-ledger.js';

/** What the main thread asks the worker (one at a time per message; the worker answers each by id). */
export type LedgerRequest = { id: number } & (
  | { op: 'insert'; records: readonly SpendRecord[] }
  | { op: 'report'; groupBy: Grouping; range: TimeRange; limit: number | undefined }
  | { op: 'total'; range: TimeRange }
  | { op: 'spendOf'; scope: SpendScope; subject: string; from: number }
  | { op: 'close' }
);

export type LedgerReply = { id: number } & ({ ok: true; value: unknown } | { ok: false; message: string });

type Body = LedgerRequest extends infer Request ? (Request extends { id: number } ? Omit<Request, 'id'> : never) : never;

export interface ThreadedSqliteLedgerOptions {
  table?: string;
  /** The worker died (crash, out of memory): pending calls fail (the writer retries them) and a new one starts next call. */
  onError?: (message: string, error: unknown) => void;
}

// Compiled, the worker is the .js beside this file. Run from the sources (tests, development), it is the .ts loaded
// through tsx, registered by a bootstrap: a worker does not reliably inherit the parent's loader hooks.
const fromSources = import.meta.url.endsWith('.ts');
const workerUrl = new URL(fromSources ? './sqlite-ledger-worker.ts' : './sqlite-ledger-worker.js', import.meta.url);
const sourceBootstrap = () =>
  `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(workerUrl.href)}); })`;

export class ThreadedSqliteLedger implements SpendLedger {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly options: ThreadedSqliteLedgerOptions = {},
  ) {
    if (path === ':memory:') throw new Error('an in-memory SQLite database cannot be shared with a worker thread');
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
  async close(): Promise<void> {
    if (this.closed) return;
    const worker = this.worker;
    if (worker) await this.call({ op: 'close' }).catch(() => undefined);
    this.closed = true;
    if (worker) await worker.terminate();
  }

  /** True while the worker thread is running (tests; idle gateways have none). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  private call(body: Body): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the spend ledger is closed'));
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Referenced only while it owes answers: an idle worker never keeps the process alive.
      if (this.pending.size === 1) worker.ref();
      // Not `{ ...body, id }`: see src/core/objects.ts.
      const message = Object.assign({}, body) as LedgerRequest;
      message.id = id;
      worker.postMessage(message);
    });
  }

  private spawn(): Worker {
    const workerData = { path: this.path, table: this.options.table ?? 'bw_spend' };
    const worker = fromSources ? new Worker(sourceBootstrap(), { eval: true, name: 'breakwater-spend-ledger', workerData }) : new Worker(workerUrl, { name: 'breakwater-spend-ledger', workerData });
    worker.unref();
    worker.on('message', (reply: LedgerReply) => this.answer(worker, reply));
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) => this.lost(worker, new Error(`spend ledger worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private answer(worker: Worker, reply: LedgerReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) worker.unref();
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(new Error(reply.message));
  }

  private lost(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const call of waiting) call.reject(error);
    if (!this.closed) this.options.onError?.('spend ledger worker stopped; a new one starts with the next batch', error);
  }
}
