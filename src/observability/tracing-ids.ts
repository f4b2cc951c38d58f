// Which trace each API request belongs to, for the log line. Filled by the span builder only while tracing is on;
// kept apart from it so the logger reads it without loading OpenTelemetry.
import type { RequestRecord } from './events.js';

const traceIds = new WeakMap<RequestRecord, string>();

export function rememberTraceId(record: RequestRecord, traceId: string): void {
  traceIds.set(record, traceId);
}

/** The trace id of an API request while tracing is on; undefined otherwise. */
export function traceIdOf(record: RequestRecord): string | undefined {
  return traceIds.get(record);
}
