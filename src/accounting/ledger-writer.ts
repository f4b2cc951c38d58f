// Writes spend records to the ledger in batches and never drops one: a failed batch is retried with backoff; if the
// store stays down the batch goes to a local spool file, replayed (idempotently) once the store answers again.
import { ledgerActivity } from './accounting-events.js';
import type { SpendLedger, SpendRecord } from './spend-ledger.js';
import type { SpoolFile } from './spool-file.js';

export interface LedgerWriterOptions {
  batchSize: number;
  flushIntervalMs: number;
  /** Attempts per batch before it is spooled. */
  retryAttempts: number;
  retryBaseMs: number;
  /** While spooling, how often to try the store again and replay the spool. */
  replayIntervalMs: number;
  /** Records held in memory at most; beyond this they go straight to the spool. */
  maxQueue: number;
  gatewayId: number;
  sleep?: (ms: number) => Promise<void>;
  onError?: (message: string, error: unknown) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export class LedgerWriter {
  private queue: SpendRecord[] = [];
  /** Flushes, spool writes and replays run one at a time, in order. */
  private chain: Promise<void> = Promise.resolve();
  private storeDown = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private replayTimer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private closed = false;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly ledger: SpendLedger,
    private readonly spool: SpoolFile,
    private readonly options: LedgerWriterOptions,
  ) {
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** Replays what a previous run left in the spool, then starts the periodic flush and replay. */
  async start(): Promise<void> {
    await this.enqueue(() => this.replay());
    this.flushTimer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.flushTimer.unref();
    this.replayTimer = setInterval(() => {
      if (this.storeDown) void this.enqueue(() => this.replay());
    }, this.options.replayIntervalMs);
    this.replayTimer.unref();
  }

  /** True while batches go to the spool because the store is unreachable. */
  get spooling(): boolean {
    return this.storeDown;
  }

  get queued(): number {
    return this.queue.length;
  }

  write(record: SpendRecord): void {
    this.queue.push(record);
    if (this.queue.length >= this.options.batchSize && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        void this.flush();
      });
    }
  }

  /** Writes everything queued so far (to the store, or the spool); resolves when done. */
  flush(): Promise<void> {
    if (this.queue.length === 0) return this.chain;
    const taken = this.queue;
    this.queue = [];
    return this.enqueue(async () => {
      for (let start = 0; start < taken.length; start += this.options.batchSize) await this.writeBatch(taken.slice(start, start + this.options.batchSize));
    });
  }

  /** Flushes what is queued and stops the timers; records the store cannot take stay in the spool for the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.flushTimer);
    clearInterval(this.replayTimer);
    if (this.storeDown) await this.enqueue(() => this.replay());
    await this.flush();
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(work).catch((error: unknown) => this.options.onError?.('spend ledger writer failed', error));
    return this.chain;
  }

  private async writeBatch(batch: SpendRecord[]): Promise<void> {
    if (this.storeDown || this.queue.length > this.options.maxQueue) {
      await this.toSpool(batch);
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.ledger.insert(batch);
        this.publish('written', batch.length);
        return;
      } catch (error) {
        if (attempt >= this.options.retryAttempts || this.closed) {
          this.storeDown = true;
          this.options.onError?.('spend ledger store unreachable: spooling records locally', error);
          await this.toSpool(batch);
          return;
        }
        this.publish('retried', batch.length);
        await this.sleep(this.options.retryBaseMs * 2 ** (attempt - 1));
      }
    }
  }

  private async toSpool(batch: SpendRecord[]): Promise<void> {
    try {
      await this.spool.append(batch);
      this.publish('spooled', batch.length);
    } catch (error) {
      // Disk trouble too: keep the records in memory rather than lose them; the next flush tries again.
      this.queue.unshift(...batch);
      throw error;
    }
  }

  /** Sends the spool to the store; on success the spool is emptied and normal writing resumes. */
  private async replay(): Promise<void> {
    let replayed = 0;
    try {
      for await (const batch of this.spool.batches(this.options.batchSize)) {
        await this.ledger.insert(batch);
        replayed += batch.length;
      }
    } catch {
      this.storeDown = true;
      return;
    }
    await this.spool.clear();
    this.storeDown = false;
    if (replayed > 0) this.publish('replayed', replayed);
  }

  private publish(outcome: 'written' | 'retried' | 'spooled' | 'replayed', records: number): void {
    if (ledgerActivity.hasSubscribers) ledgerActivity.publish({ gatewayId: this.options.gatewayId, outcome, records });
  }
}
