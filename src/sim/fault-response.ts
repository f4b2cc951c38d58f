// Turns a fault plus the response the simulator would have sent into the Delivery that actually goes out.

import type { OutgoingHttpHeaders } from 'node:http';
import { malformedJsonBody } from './chat-render.js';
import type { Delivery } from './delivery.js';
import { errorEnvelope, errorTypeForStatus, faultMessageForStatus } from './error-envelope.js';
import type { FaultSpec } from './fault-spec.js';

/** What a successful response would be, before any fault reshapes it. */
export type PlannedResponse =
  | { stream: false; body: string; initialDelayMs: number; status?: number }
  | { stream: true; events: readonly string[]; initialDelayMs: number; delaysMs: readonly number[] };

export interface ResponseHeaders {
  json: OutgoingHttpHeaders;
  eventStream: OutgoingHttpHeaders;
}

const htmlBody = '<html><head><title>502 Bad Gateway</title></head><body><h1>bad gateway</h1></body></html>\n';
// A non-stream body paced by `trickle` is sent in this many pieces.
const tricklePieces = 4;

/** Renders an error body in a wire format's own shape (OpenAI's envelope by default). */
export type ErrorBodyRenderer = (status: number, message: string, code: string | null) => string;

export const openAIErrorBody: ErrorBodyRenderer = (status, message, code) => errorEnvelope(message, errorTypeForStatus(status), null, code);

/**
 * Faults that replace the response outright (status, content-type, hang after headers), so the
 * completion never needs generating. Returns undefined for faults that reshape a real response.
 */
export function replacementDelivery(fault: FaultSpec, stream: boolean, headers: ResponseHeaders, initialDelayMs: number, errorBody: ErrorBodyRenderer = openAIErrorBody): Delivery | undefined {
  if (fault.status !== undefined) {
    const body = errorBody(fault.status, faultMessageForStatus(fault.status), fault.code ?? null);
    const errorHeaders = fault.retryAfter === undefined ? headers.json : { ...headers.json, 'retry-after': fault.retryAfter };
    return { status: fault.status, headers: errorHeaders, initialDelayMs, pieces: [body], delaysMs: [], ending: 'end' };
  }
  if (fault.contentType !== undefined) {
    return { status: 200, headers: { ...headers.json, 'content-type': fault.contentType }, initialDelayMs, pieces: [htmlBody], delaysMs: [], ending: 'end' };
  }
  if (fault.hang === 'after-headers') {
    return { status: 200, headers: stream ? headers.eventStream : headers.json, initialDelayMs, pieces: [], delaysMs: [], ending: 'stall' };
  }
  return undefined;
}

/** Applies cut-after, stall-after, malformed and trickle (or nothing) to a planned response. */
export function reshapedDelivery(planned: PlannedResponse, fault: FaultSpec | undefined, headers: ResponseHeaders): Delivery {
  if (planned.stream) return reshapedStream(planned.events, planned.initialDelayMs, planned.delaysMs, fault, headers.eventStream);
  const delivery = reshapedBody(planned.body, planned.initialDelayMs, fault, headers.json);
  return planned.status === undefined ? delivery : { ...delivery, status: planned.status };
}

function reshapedStream(events: readonly string[], initialDelayMs: number, delaysMs: readonly number[], fault: FaultSpec | undefined, headers: OutgoingHttpHeaders): Delivery {
  let pieces = events;
  let delays = delaysMs;
  let ending: Delivery['ending'] = 'end';
  if (fault?.trickleMs !== undefined) delays = events.map(() => fault.trickleMs ?? 0);
  if (fault?.malformed === true && events.length > 1) {
    const mangled = [...events];
    mangled[1] = malformedEventFor(events[1] ?? '');
    pieces = mangled;
  }
  const keep = fault?.cutAfter ?? fault?.stallAfter;
  if (keep !== undefined) {
    pieces = pieces.slice(0, keep);
    delays = delays.slice(0, keep);
    ending = fault?.cutAfter !== undefined ? 'cut' : 'stall';
  }
  return { status: 200, headers, initialDelayMs, pieces, delaysMs: delays, ending };
}

/** Keeps the SSE framing (so the event still parses as an event) but breaks the JSON inside it. */
function malformedEventFor(event: string): string {
  return `${event.slice(0, Math.floor(event.length / 2))}\n\n`;
}

function reshapedBody(body: string, initialDelayMs: number, fault: FaultSpec | undefined, headers: OutgoingHttpHeaders): Delivery {
  if (fault?.cutAfter !== undefined || fault?.stallAfter !== undefined) {
    // The full Content-Length promises more than is sent, so clients see a truncated body rather than a short valid one.
    const truncated = body.slice(0, Math.floor(body.length / 2));
    return {
      status: 200,
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      initialDelayMs,
      pieces: [truncated],
      delaysMs: [],
      ending: fault.cutAfter !== undefined ? 'cut' : 'stall',
    };
  }
  const finalBody = fault?.malformed === true ? malformedJsonBody(body) : body;
  if (fault?.trickleMs !== undefined) {
    const size = Math.ceil(finalBody.length / tricklePieces);
    const pieces: string[] = [];
    for (let start = 0; start < finalBody.length; start += size) pieces.push(finalBody.slice(start, start + size));
    return { status: 200, headers, initialDelayMs, pieces, delaysMs: pieces.map(() => fault.trickleMs ?? 0), ending: 'end' };
  }
  return { status: 200, headers, initialDelayMs, pieces: [finalBody], delaysMs: [], ending: 'end' };
}
