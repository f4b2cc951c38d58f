// A retry budget per upstream (Envoy's idea): retries caused by an upstream's failures are allowed only
// while they stay under a fraction of the requests recently sent to it — or while fewer than a few
// retries are in flight — so an outage never multiplies the load on the system.
import type { Clock } from './clock.js';
import { SlidingCounts } from './sliding-window.js';

export interface RetryBudgetSettings {
  /** 0..1: retries allowed per request in the window. */
  ratio: number;
  /** Retries always allowed when fewer than this many are in flight. */
  min_concurrent: number;
  window_seconds: number;
}

const requests = 0;
const retries = 1;

export class RetryBudget {
  private readonly window: SlidingCounts;
  private inFlight = 0;

  constructor(
    private readonly settings: RetryBudgetSettings,
    clock: Clock,
  ) {
    this.window = new SlidingCounts(settings.window_seconds * 1000, 2, clock);
  }

  /** Counts a first attempt sent to this upstream. */
  recordRequest(): void {
    this.window.add(requests);
  }

  /** Asks to retry after a failure of this upstream; on true, call `finish()` when the retry is over. */
  tryRetry(): boolean {
    const allowed = this.inFlight < this.settings.min_concurrent || this.window.total(retries) + 1 <= this.settings.ratio * this.window.total(requests);
    if (!allowed) return false;
    this.window.add(retries);
    this.inFlight++;
    return true;
  }

  finish(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }
}
