// Which trace each API request belongs to, for the log line. Filled by the span builder only while tracing is on;
// kept apart from it so the logger reads it without loading OpenTelemetry.
import type { RequestRecord } from './events.js';

// A symbol-keyed field on the record rather than a WeakMap: one property store per request, no ephemeron for the
// garbage collector to trace, and invisible to everything that enumerates or serialises the record.
const traceIdField = Symbol('breakwater.traceId');

type TracedRecord = RequestRecord & { [traceIdField]?: string };

export function rememberTraceId(record: RequestRecord, traceId: string): void {
  (record as TracedRecord)[traceIdField] = traceId;
}

/** The trace id of an API request while tracing is on; undefined otherwise. */
export function traceIdOf(record: RequestRecord): string | undefined {
  return (record as TracedRecord)[traceIdField];
}
