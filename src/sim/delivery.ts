// Writes a planned response to the socket on schedule: coalescing chunks with no delay between them, then ending, cutting or stalling.

import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** A response as a schedule of body pieces. */
export interface Delivery {
  status: number;
  headers: OutgoingHttpHeaders;
  /** Milliseconds before the headers and the first piece. */
  initialDelayMs: number;
  pieces: readonly string[];
  /** delaysMs[i] (i ≥ 1) is the wait before piece i; missing entries mean no wait. */
  delaysMs: readonly number[];
  /** `end` finishes normally; `cut` closes the socket after the last piece; `stall` leaves it open and silent. */
  ending: 'end' | 'cut' | 'stall';
}

/** The per-request handle: its pending timer, and whether the simulator (not the client) closed the connection. */
export class ResponseControl {
  readonly response: ServerResponse;
  timer: NodeJS.Timeout | undefined;
  endedBySim = false;
  /** Renders this request's errors in its wire format's shape (Anthropic, Gemini); unset means OpenAI's envelope. */
  errorBody: ((status: number, message: string, code: string | null) => string) | undefined;

  constructor(response: ServerResponse) {
    this.response = response;
  }

  /** Called when the connection closes, so hung and trickling responses leave no timers behind. */
  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Closes the connection on purpose (a scripted cut), after whatever was written has been flushed. */
  cut(): void {
    this.endedBySim = true;
    const socket = this.response.socket;
    if (socket === null) {
      this.response.destroy();
      return;
    }
    // end() flushes pending writes before the FIN, so the client reliably sees exactly the pieces sent.
    socket.end(() => socket.destroy());
  }
}

export function deliver(control: ResponseControl, delivery: Delivery): void {
  const { response } = control;
  const { pieces, delaysMs } = delivery;
  let next = 0;

  const step = (): void => {
    control.timer = undefined;
    if (response.destroyed) return;
    let chunk = pieces[next] ?? '';
    next++;
    while (next < pieces.length && !((delaysMs[next] ?? 0) > 0)) {
      chunk += pieces[next];
      next++;
    }
    const isLast = next >= pieces.length;
    if (!response.headersSent) {
      // A body written in one go gets a Content-Length; anything paced over time goes out chunked, like a real stream.
      const wholeBody = isLast && delivery.ending === 'end' && delivery.headers['content-length'] === undefined;
      response.writeHead(delivery.status, wholeBody ? { ...delivery.headers, 'content-length': Buffer.byteLength(chunk) } : delivery.headers);
    }
    if (!isLast) {
      if (chunk !== '') response.write(chunk);
      control.timer = setTimeout(step, delaysMs[next]);
      return;
    }
    if (delivery.ending === 'end') {
      response.end(chunk);
      return;
    }
    if (chunk !== '') response.write(chunk);
    else response.flushHeaders();
    if (delivery.ending === 'cut') control.cut();
  };

  if (delivery.initialDelayMs > 0) control.timer = setTimeout(step, delivery.initialDelayMs);
  else step();
}
