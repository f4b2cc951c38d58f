// Guards calls to the shared limit backend (Redis): each call is decided within a bounded time; when Redis cannot
// answer, the failure mode decides — fail-open to a local in-process backend (announced as an event) or fail-closed (503).
import { GatewayError } from '../core/errors.js';
import { limiterState } from './limit-events.js';
import type { Clock } from './memory-limiter.js';

export type FailureMode = 'open' | 'closed';

/** Starts a one-shot timer and returns its cancel function (tests drive it on fake time). */
export type Scheduler = (callback: () => void, ms: number) => () => void;

const realTimers: Scheduler = (callback, ms) => {
  const timer = setTimeout(callback, ms);
  return () => clearTimeout(timer);
};

export interface GuardOptions {
  mode: FailureMode;
  /** Longest a call may wait for the shared backend before the failure mode decides (ms). */
  decideWithinMs: number;
  /** After a failure, how long to skip the shared backend before probing it again (ms). */
  probeIntervalMs: number;
  gatewayId: number;
  clock?: Clock;
  /** The `decideWithinMs` timer (default: setTimeout). */
  schedule?: Scheduler;
  /** Told when the shared backend becomes unreachable or comes back (for the log). */
  onChange?: (degraded: boolean, error: unknown) => void;
}

export class SharedBackendGuard {
  private unhealthyUntil = 0;
  private degraded = false;
  private readonly clock: Clock;
  private readonly schedule: Scheduler;

  constructor(private readonly options: GuardOptions) {
    this.clock = options.clock ?? Date.now;
    this.schedule = options.schedule ?? realTimers;
  }

  /** True while the shared backend is considered unreachable. */
  get isDegraded(): boolean {
    return this.degraded;
  }

  async run<T>(shared: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    if (this.clock() >= this.unhealthyUntil) {
      try {
        const result = await this.withDeadline(shared());
        if (this.degraded) this.setDegraded(false, undefined);
        return result;
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        this.unhealthyUntil = this.clock() + this.options.probeIntervalMs;
        this.setDegraded(true, error);
      }
    }
    if (this.options.mode === 'closed') throw new GatewayError('BW_ERR_LIMITER_UNAVAILABLE', 'The rate limiter is unavailable; try again shortly', { retryAfterMs: 1_000 });
    return local();
  }

  private setDegraded(degraded: boolean, error: unknown): void {
    const changed = this.degraded !== degraded;
    this.degraded = degraded;
    if (changed) this.options.onChange?.(degraded, error);
    limiterState.publish({ gatewayId: this.options.gatewayId, degraded, failed: error !== undefined, changed, mode: this.options.mode, error: error instanceof Error ? error.message : undefined });
  }

  private withDeadline<T>(work: Promise<T>): Promise<T> {
    let cancel: (() => void) | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      // Timers run before I/O in each loop turn: after a busy stretch the deadline could fire although the answer is
      // already waiting in the socket. Deciding in the check phase (after I/O) gives that answer its chance first.
      cancel = this.schedule(() => setImmediate(() => reject(new Error(`the shared limit backend did not answer within ${this.options.decideWithinMs} ms`))), this.options.decideWithinMs);
    });
    // A late answer is dropped; its effect (units taken) is bounded by one request and expires with the bucket.
    work.catch(() => undefined);
    return Promise.race([work, deadline]).finally(() => cancel?.());
  }
}
