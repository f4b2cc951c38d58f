// A retry budget per upstream (Envoy's idea): retries caused by an upstream's failures are allowed only
// while they stay under a fraction of the requests recently sent to it — or while fewer than a few
// retries are in flight — so an outage never multiplies the load on the system.
import type { Clock } from './clock.js';

export interface RetryBudgetSettings {
  /** 0..1: retries allowed per request in the window. */
  ratio: number;
  /** Retries always allowed when fewer than this many are in flight. */
  min_concurrent: number;
  window_seconds: number;
}

const bucketCount = 10;

export class RetryBudget {
  private readonly requests = new Array<number>(bucketCount).fill(0);
  private readonly retries = new Array<number>(bucketCount).fill(0);
  private bucketStart = 0;
  private inFlight = 0;
  private readonly bucketMs: number;

  constructor(
    private readonly settings: RetryBudgetSettings,
    private readonly clock: Clock,
  ) {
    this.bucketMs = Math.max(1, (settings.window_seconds * 1000) / bucketCount);
  }

  /** Counts a first attempt sent to this upstream. */
  recordRequest(): void {
    this.bump(this.requests);
  }

  /** Asks to retry after a failure of this upstream; on true, call `finish()` when the retry is over. */
  tryRetry(): boolean {
    this.rotate();
    const requests = sum(this.requests);
    const retries = sum(this.retries);
    const allowed = this.inFlight < this.settings.min_concurrent || retries + 1 <= this.settings.ratio * requests;
    if (!allowed) return false;
    this.bump(this.retries);
    this.inFlight++;
    return true;
  }

  finish(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  private bump(buckets: number[]): void {
    this.rotate();
    const index = Math.floor(this.clock.now() / this.bucketMs) % bucketCount;
    buckets[index] = (buckets[index] ?? 0) + 1;
  }

  private rotate(): void {
    const current = Math.floor(this.clock.now() / this.bucketMs);
    const stale = Math.min(bucketCount, current - this.bucketStart);
    for (let step = 1; step <= stale; step++) {
      const index = (this.bucketStart + step) % bucketCount;
      this.requests[index] = 0;
      this.retries[index] = 0;
    }
    this.bucketStart = current;
  }
}

function sum(values: number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
