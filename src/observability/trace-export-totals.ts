// Process-wide totals of the gateway's own OTLP span export, for /metrics. Kept apart from the exporter so the
// metrics module reads them without loading OpenTelemetry (they stay 0 while tracing is off).
export const traceExportTotals = { exportedSpans: 0, droppedSpans: 0, failedSpans: 0 };
