// One request's total deadline: covers every attempt, backoff and fallback; aborts the upstream call when it
// passes, and tells a passed deadline apart from a client that went away.
import { Cancellation, type CancelSignal } from '../core/cancellation.js';
import { GatewayError } from '../core/errors.js';
import type { Clock } from './clock.js';

/** A fixed reason for stopping the timer: aborting with no reason would build a DOMException on every request. */
const timerStopped = Symbol('deadline timer stopped');

export class Deadline {
  readonly at: number;
  private readonly controller = new Cancellation();
  private readonly stopTimer = new Cancellation();
  private fired = false;
  private readonly onClientAbort = () => this.controller.abort();

  constructor(
    readonly budgetMs: number,
    private readonly clientSignal: CancelSignal,
    private readonly clock: Clock,
  ) {
    this.at = clock.now() + budgetMs;
    clientSignal.addEventListener('abort', this.onClientAbort, { once: true });
    if (clientSignal.aborted) this.controller.abort();
    void clock.sleep(budgetMs, this.stopTimer).then(() => {
      if (this.stopTimer.aborted) return;
      this.fired = true;
      this.controller.abort();
    });
  }

  /** Aborted when the deadline passes or the client goes away: pass it to upstream calls. */
  get signal(): CancelSignal {
    return this.controller;
  }

  get remainingMs(): number {
    return Math.max(0, this.at - this.clock.now());
  }

  get expired(): boolean {
    return this.fired || this.clock.now() >= this.at;
  }

  get clientGone(): boolean {
    return this.clientSignal.aborted;
  }

  error(reasons: readonly string[] = []): GatewayError {
    const detail = reasons.length > 0 ? ` after: ${reasons.join('; ')}` : '';
    return new GatewayError('BW_ERR_DEADLINE_EXCEEDED', `the request's deadline of ${this.budgetMs} ms passed${detail}`);
  }

  /** Stops the timer; call when the request is answered (for streams: when the stream ends). */
  clear(): void {
    this.stopTimer.abort(timerStopped);
    this.clientSignal.removeEventListener('abort', this.onClientAbort);
  }
}
