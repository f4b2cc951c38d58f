// Cancellation on the request path: the part of AbortController/AbortSignal the gateway uses (and undici accepts as
// a request's `signal`), as one plain class.
// Why not AbortController: on Node 20 every AbortSignal is given a map (hidden class) of its own when it is created
// (Object.setPrototypeOf onto an EventTarget), so every property access on one misses V8's inline caches and goes to
// the runtime, and each miss evicts an entry other code was using from V8's shared stub cache. With four signals per
// request (client, deadline, deadline timer, upstream call) that was ~25 cache misses per request, seen with
// `node --log-ic` and in perf profiles as lookups spread over unrelated code (bench/RESULTS.md, "AbortSignal").
// A real AbortSignal is a CancelSignal too, so callers outside the request path can still pass one.

/** What a task waits on to learn it is no longer wanted. A real AbortSignal satisfies it. */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Controller and signal in one object: `abort()` once, listeners told once, in the order they were added. */
export class Cancellation implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Array<() => void> | undefined = undefined;

  /** Itself, so code written for AbortController (`controller.signal`) reads the same. */
  get signal(): CancelSignal {
    return this;
  }

  /** Every listener is told at most once (abort happens once), so `once` needs no bookkeeping. */
  addEventListener(type: 'abort', listener: () => void, _options?: { once?: boolean }): void {
    if (type !== 'abort' || this.aborted) return;
    if (this.listeners === undefined) this.listeners = [listener];
    else this.listeners.push(listener);
  }

  removeEventListener(type: 'abort', listener: () => void): void {
    const listeners = this.listeners;
    if (type !== 'abort' || listeners === undefined) return;
    const index = listeners.indexOf(listener);
    if (index !== -1) listeners.splice(index, 1);
  }

  /** Marks the work cancelled and tells the listeners; later calls do nothing. Like AbortController, a missing
   *  reason becomes an AbortError DOMException (built only here, on the rare path). */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners === undefined) return;
    for (const listener of listeners) {
      try {
        listener();
      } catch (error) {
        // As EventTarget does: one listener's failure neither stops the others nor reaches abort()'s caller.
        process.nextTick(() => {
          throw error;
        });
      }
    }
  }
}

/** A cancellation that follows `parent` (if any) and also fires after `ms`; `dispose()` detaches both. */
export function cancelAfter(ms: number, parent?: CancelSignal): { signal: CancelSignal; dispose(): void } {
  const cancellation = new Cancellation();
  const onParent = () => cancellation.abort(parent?.reason);
  const timer = setTimeout(() => cancellation.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms);
  timer.unref();
  if (parent) {
    if (parent.aborted) onParent();
    else parent.addEventListener('abort', onParent, { once: true });
  }
  return {
    signal: cancellation,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}
