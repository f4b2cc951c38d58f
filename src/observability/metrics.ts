// Prometheus metrics, fed by the request events. Labels are bounded: routes and configured model/provider names only.
// The per-request series are fast-metrics cells looked up once per (route, model, provider) and kept; the rest
// (process metrics, rare events) are prom-client's own.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestRecord, UpstreamErrorEvent } from './events.js';
import { droppedLogLines } from './log-writer.js';
import { traceExportTotals } from './trace-export-totals.js';
import { CounterFamily, GaugeFamily, HistogramFamily, type CounterCell, type GaugeCell, type HistogramCell } from './fast-metrics.js';

/** The gateway's own cost per request: from half a millisecond to a second. */
const overheadBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** Buckets suited to LLM calls: from a cache hit (10 ms) to a long generation (2 min). */
export const llmLatencyBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];

/** Every series a request of one (route, model, provider) touches when it ends. */
interface RequestSeries {
  route: RouteSeries;
  duration: HistogramCell;
  timeToFirstToken: HistogramCell;
  tokensIn: CounterCell;
  tokensOut: CounterCell;
  /** By HTTP status. */
  requests: Map<number, CounterCell>;
  labels: [route: string, model: string, provider: string];
}

interface RouteSeries {
  inFlight: GaugeCell;
  overhead: HistogramCell;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: CounterFamily;
  private readonly duration: HistogramFamily;
  private readonly timeToFirstToken: HistogramFamily;
  private readonly inFlight: GaugeFamily;
  private readonly upstreamErrors: CounterFamily;
  private readonly tokens: CounterFamily;
  private readonly overhead: HistogramFamily;
  private readonly streamsInFlight: GaugeCell;
  private readonly byRoute = new Map<string, RouteSeries>();
  private readonly byRequestLabels = new Map<string, RequestSeries>();
  private readonly onStreamStart = (message: unknown) => {
    if ((message as RequestRecord).gatewayId === this.gatewayId) this.streamsInFlight.value++;
  };
  private readonly onStart = (message: unknown) => {
    const record = message as RequestRecord;
    if (record.gatewayId === this.gatewayId) this.routeSeries(record.route).inFlight.value++;
  };
  private readonly onEnd = (message: unknown) => {
    const record = message as RequestRecord;
    if (record.gatewayId === this.gatewayId) this.recordEnd(record);
  };
  private readonly onUpstreamError = (message: unknown) => {
    const event = message as UpstreamErrorEvent;
    if (event.gatewayId !== this.gatewayId) return;
    this.upstreamErrors.cell(event.provider, event.kind).value++;
  };

  constructor(private readonly gatewayId: number) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'breakwater_process_' });
    this.requests = new CounterFamily({ name: 'breakwater_requests_total', help: 'API requests answered, by route, model, provider and HTTP status', labelNames: ['route', 'model', 'provider', 'status'], registers });
    this.duration = new HistogramFamily({ name: 'breakwater_request_duration_seconds', help: 'Time from request arrival to the last byte of the response', labelNames: ['route', 'model', 'provider'], buckets: llmLatencyBuckets, registers });
    this.timeToFirstToken = new HistogramFamily({ name: 'breakwater_time_to_first_token_seconds', help: 'Time from request arrival to the first streamed chunk sent to the client', labelNames: ['model', 'provider'], buckets: llmLatencyBuckets, registers });
    this.inFlight = new GaugeFamily({ name: 'breakwater_requests_in_flight', help: 'API requests being served now (streams included)', labelNames: ['route'], registers });
    this.upstreamErrors = new CounterFamily({ name: 'breakwater_upstream_errors_total', help: 'Failed upstream calls, by provider and kind', labelNames: ['provider', 'kind'], registers });
    this.tokens = new CounterFamily({ name: 'breakwater_tokens_total', help: 'Tokens reported by upstreams, by model, provider and type (input or output)', labelNames: ['model', 'provider', 'type'], registers });
    this.overhead = new HistogramFamily({
      name: 'breakwater_gateway_overhead_seconds',
      help: 'Request duration minus the time spent waiting on upstreams (non-streamed requests that reached one): what the gateway itself costs',
      labelNames: ['route'],
      buckets: overheadBuckets,
      registers,
    });
    this.streamsInFlight = new GaugeFamily({ name: 'breakwater_streams_in_flight', help: 'SSE streams open to clients now', registers }).cell();
    let dropsCounted = 0;
    new Counter({
      name: 'breakwater_log_lines_dropped_total',
      help: 'Log lines dropped because stdout did not drain (over 16 MiB pending) or is gone',
      registers,
      collect() {
        const dropped = droppedLogLines();
        if (dropped > dropsCounted) this.inc(dropped - dropsCounted);
        dropsCounted = dropped;
      },
    });
    const spansCounted = { exported: 0, dropped: 0, failed: 0 };
    new Counter({
      name: 'breakwater_trace_spans_total',
      help: "Spans handed to the gateway's OTLP/HTTP exporter, by outcome: exported, dropped (queue full), failed (not delivered)",
      labelNames: ['outcome'],
      registers,
      collect() {
        for (const [outcome, total] of [['exported', traceExportTotals.exportedSpans], ['dropped', traceExportTotals.droppedSpans], ['failed', traceExportTotals.failedSpans]] as const) {
          if (total > spansCounted[outcome]) this.inc({ outcome }, total - spansCounted[outcome]);
          spansCounted[outcome] = total;
        }
      },
    });
    subscribe('breakwater:stream:start', this.onStreamStart);
    subscribe('breakwater:request:start', this.onStart);
    subscribe('breakwater:request:end', this.onEnd);
    subscribe('breakwater:upstream:error', this.onUpstreamError);
  }

  private routeSeries(route: string): RouteSeries {
    let series = this.byRoute.get(route);
    if (!series) {
      series = { inFlight: this.inFlight.cell(route), overhead: this.overhead.cell(route) };
      this.byRoute.set(route, series);
    }
    return series;
  }

  private requestSeries(route: string, model: string, provider: string): RequestSeries {
    const key = `${route}\u0000${model}\u0000${provider}`;
    let series = this.byRequestLabels.get(key);
    if (!series) {
      series = {
        route: this.routeSeries(route),
        duration: this.duration.cell(route, model, provider),
        timeToFirstToken: this.timeToFirstToken.cell(model, provider),
        tokensIn: this.tokens.cell(model, provider, 'input'),
        tokensOut: this.tokens.cell(model, provider, 'output'),
        requests: new Map(),
        labels: [route, model, provider],
      };
      this.byRequestLabels.set(key, series);
    }
    return series;
  }

  private recordEnd(record: RequestRecord): void {
    const series = this.requestSeries(record.route, record.modelLabel ?? 'none', record.provider ?? 'none');
    series.route.inFlight.value--;
    let requests = series.requests.get(record.status);
    if (!requests) {
      requests = this.requests.cell(...series.labels, String(record.status));
      series.requests.set(record.status, requests);
    }
    requests.value++;
    if (record.durationMs !== undefined) series.duration.observe(record.durationMs / 1000);
    if (record.timeToFirstTokenMs !== undefined) series.timeToFirstToken.observe(record.timeToFirstTokenMs / 1000);
    if (record.promptTokens) series.tokensIn.value += record.promptTokens;
    if (record.completionTokens) series.tokensOut.value += record.completionTokens;
    if (record.streamStarted) this.streamsInFlight.value--;
    else if (record.upstreamMs !== undefined && record.durationMs !== undefined) {
      series.route.overhead.observe(Math.max(0, record.durationMs - record.upstreamMs) / 1000);
    }
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    unsubscribe('breakwater:stream:start', this.onStreamStart);
    unsubscribe('breakwater:request:start', this.onStart);
    unsubscribe('breakwater:request:end', this.onEnd);
    unsubscribe('breakwater:upstream:error', this.onUpstreamError);
  }
}
