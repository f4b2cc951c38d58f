// Coalesces concurrent identical misses: the first request for a key calls upstream, the others wait (bounded)
// for its answer instead of making the same call again.
import type { CancelSignal } from '../core/cancellation.js';

interface Flight<Value> {
  promise: Promise<Value | undefined>;
  resolve: (value: Value | undefined) => void;
}

export class Coalescer<Value> {
  private readonly flights = new Map<string, Flight<Value>>();

  constructor(private readonly maxWaitMs: number) {}

  /** Starts a flight for `key` and returns its settle function, or undefined when one is already under way. */
  lead(key: string): ((value: Value | undefined) => void) | undefined {
    if (this.flights.has(key)) return undefined;
    let resolve: (value: Value | undefined) => void = () => undefined;
    const promise = new Promise<Value | undefined>((settle) => (resolve = settle));
    const flight = { promise, resolve };
    this.flights.set(key, flight);
    return (value) => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
      resolve(value);
    };
  }

  /**
   * Waits for the flight under way for `key`: its value, or undefined when there is none, it produced nothing
   * cacheable, the wait passed `maxWaitMs`, or the follower's own client went away.
   */
  async follow(key: string, signal: CancelSignal): Promise<Value | undefined> {
    const flight = this.flights.get(key);
    if (!flight) return undefined;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const giveUp = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, this.maxWaitMs, undefined);
      onAbort = () => resolve(undefined);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([flight.promise, giveUp]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  isInFlight(key: string): boolean {
    return this.flights.has(key);
  }
}
