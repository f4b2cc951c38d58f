// Which trace each API request belongs to, for the log line. Filled by the span builder only while tracing is on;
// kept apart from it so the logger reads it without loading OpenTelemetry.
import type { RequestRecord } from './events.js';

// A symbol-keyed field on the record rather than a WeakMap: one property store per request, no ephemeron for the
// garbage collector to trace, and invisible to everything that enumerates or serialises the record. The span
// builder keeps its whole per-request state there (anything with a traceId), so a record gains one field, not two.
const traceField = Symbol('breakwater.trace');

type TracedRecord = RequestRecord & { [traceField]?: { traceId: string } };

export function rememberTrace<Trace extends { traceId: string }>(record: RequestRecord, trace: Trace): void {
  (record as TracedRecord)[traceField] = trace;
}

/** What rememberTrace() stored for this record (the span builder's state), if anything. */
export function traceOf(record: RequestRecord): { traceId: string } | undefined {
  return (record as TracedRecord)[traceField];
}

/** The trace id of an API request while tracing is on; undefined otherwise. */
export function traceIdOf(record: RequestRecord): string | undefined {
  return (record as TracedRecord)[traceField]?.traceId;
}
