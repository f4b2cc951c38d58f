// A circuit breaker per upstream deployment: closed → open (failure rate over a sliding window with a
// minimum of calls, or consecutive failures, or an auth failure at once) → half-open after a cool-down
// that doubles on each re-opening (capped) → closed again after a successful probe.
// (cockatiel's breaker was the first choice; it has no injectable clock, allows one half-open call only
// and cannot be forced open by a 401, so this small one is ours.)
import type { Clock } from './clock.js';
import { SlidingCounts } from './sliding-window.js';

export interface BreakerSettings {
  window_seconds: number;
  min_calls: number;
  /** 0..1: open when failures / calls in the window reach it (with at least min_calls). */
  failure_rate: number;
  consecutive_failures: number;
  cooldown_ms: number;
  max_cooldown_ms: number;
  half_open_probes: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerTransition {
  from: BreakerState;
  to: BreakerState;
  reason: string;
}

/** A permission to call, to be settled once with `success()` or `failure()` (or `release()` if not called). */
export interface BreakerPermit {
  readonly probe: boolean;
}

const calls = 0;
const failures = 1;

export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private openedAt = 0;
  private openings = 0;
  private consecutive = 0;
  private probesInFlight = 0;
  private readonly window: SlidingCounts;

  constructor(
    private readonly settings: BreakerSettings,
    private readonly clock: Clock,
    private readonly onTransition: (transition: BreakerTransition) => void = () => undefined,
  ) {
    this.window = new SlidingCounts(settings.window_seconds * 1000, 2, clock);
  }

  /** The state now (an open breaker whose cool-down passed reads as half-open). */
  get current(): BreakerState {
    if (this.state === 'open' && this.clock.now() - this.openedAt >= this.cooldown()) return 'half-open';
    return this.state;
  }

  /** Milliseconds until an open breaker lets a probe through (0 when it would now). */
  get retryInMs(): number {
    if (this.state !== 'open') return 0;
    return Math.max(0, this.openedAt + this.cooldown() - this.clock.now());
  }

  /** Asks to make a call: undefined when the breaker refuses (open, or half-open with all probes out). */
  tryAcquire(): BreakerPermit | undefined {
    if (this.state === 'open') {
      if (this.clock.now() - this.openedAt < this.cooldown()) return undefined;
      this.transition('half-open', 'cool-down over');
    }
    if (this.state === 'half-open') {
      if (this.probesInFlight >= this.settings.half_open_probes) return undefined;
      this.probesInFlight++;
      return { probe: true };
    }
    return { probe: false };
  }

  success(permit: BreakerPermit): void {
    if (permit.probe) {
      this.probesInFlight = Math.max(0, this.probesInFlight - 1);
      if (this.state === 'half-open') {
        this.openings = 0;
        this.resetWindow();
        this.transition('closed', 'probe succeeded');
      }
      return;
    }
    this.record(false);
    this.consecutive = 0;
  }

  /** `immediate`: a failure that opens the breaker at once (the upstream refused our credentials). */
  failure(permit: BreakerPermit, immediate = false): void {
    if (permit.probe) {
      this.probesInFlight = Math.max(0, this.probesInFlight - 1);
      if (this.state === 'half-open') this.open('probe failed');
      return;
    }
    if (this.state !== 'closed') return;
    this.record(true);
    this.consecutive++;
    if (immediate) return this.open('authentication failure');
    if (this.consecutive >= this.settings.consecutive_failures) return this.open(`${this.consecutive} consecutive failures`);
    const callCount = this.window.total(calls);
    const failureCount = this.window.total(failures);
    if (callCount >= this.settings.min_calls && failureCount / callCount >= this.settings.failure_rate) {
      this.open(`failure rate ${Math.round((failureCount / callCount) * 100)}% over ${callCount} calls`);
    }
  }

  /** Gives back a permit that was not used for a call (e.g. the request ended first). */
  release(permit: BreakerPermit): void {
    if (permit.probe) this.probesInFlight = Math.max(0, this.probesInFlight - 1);
  }

  private open(reason: string): void {
    this.openings++;
    this.openedAt = this.clock.now();
    this.consecutive = 0;
    this.resetWindow();
    this.transition('open', reason);
  }

  private cooldown(): number {
    return Math.min(this.settings.max_cooldown_ms, this.settings.cooldown_ms * 2 ** Math.max(0, this.openings - 1));
  }

  private transition(to: BreakerState, reason: string): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.onTransition({ from, to, reason });
  }

  private record(failed: boolean): void {
    this.window.add(calls);
    if (failed) this.window.add(failures);
  }

  private resetWindow(): void {
    this.window.reset();
  }
}
