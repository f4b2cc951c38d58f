// Time for the reliability policies, injectable so tests run on fake time.
import type { CancelSignal } from '../core/cancellation.js';

export interface Clock {
  /** Milliseconds, monotonic enough for intervals (Date.now() in production). */
  now(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: CancelSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted || ms <= 0) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/** A clock that only moves when told to: for unit tests. */
export class FakeClock implements Clock {
  private time: number;
  private sleepers: Array<{ until: number; resolve: () => void }> = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: CancelSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = { until: this.time + ms, resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', () => {
        this.sleepers = this.sleepers.filter((entry) => entry !== sleeper);
        resolve();
      }, { once: true });
    });
  }

  /** Moves time forward, waking sleepers whose time has come (in order). */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      const next = this.sleepers.filter((sleeper) => sleeper.until <= target).sort((a, b) => a.until - b.until)[0];
      if (!next) break;
      this.time = Math.max(this.time, next.until);
      this.sleepers = this.sleepers.filter((sleeper) => sleeper !== next);
      next.resolve();
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.time = target;
  }

  get pendingSleepers(): number {
    return this.sleepers.length;
  }
}
