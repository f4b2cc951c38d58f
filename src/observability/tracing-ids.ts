// Which trace each API request belongs to, for the log line. Filled by the span builder only while tracing is on;
// kept apart from it so the logger reads it without loading OpenTelemetry.
import type { RequestRecord } from './events.js';

// The record's own `trace` slot (present, undefined, from the record's creation: no shape change when it is set).
// The span builder keeps its whole per-request state there (anything with a traceId).
export function rememberTrace<Trace extends { traceId: string }>(record: RequestRecord, trace: Trace): void {
  record.trace = trace;
}

/** What rememberTrace() stored for this record (the span builder's state), if anything. */
export function traceOf(record: RequestRecord): { traceId: string } | undefined {
  return record.trace;
}

/** The trace id of an API request while tracing is on; undefined otherwise. */
export function traceIdOf(record: RequestRecord): string | undefined {
  return record.trace?.traceId;
}
