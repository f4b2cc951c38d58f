// Prometheus metrics, fed by the request events. Labels are bounded: routes and configured model/provider names only.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestRecord, UpstreamErrorEvent } from './events.js';

/** The gateway's own cost per request: from half a millisecond to a second. */
const overheadBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** Buckets suited to LLM calls: from a cache hit (10 ms) to a long generation (2 min). */
export const llmLatencyBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'model' | 'provider' | 'status'>;
  private readonly duration: Histogram<'route' | 'model' | 'provider'>;
  private readonly timeToFirstToken: Histogram<'model' | 'provider'>;
  private readonly inFlight: Gauge<'route'>;
  private readonly upstreamErrors: Counter<'provider' | 'kind'>;
  private readonly tokens: Counter<'model' | 'provider' | 'type'>;
  private readonly overhead: Histogram<'route'>;
  private readonly streamsInFlight: Gauge;
  private readonly onStreamStart = (message: unknown) => {
    if ((message as RequestRecord).gatewayId === this.gatewayId) this.streamsInFlight.inc();
  };
  private readonly onStart = (message: unknown) => {
    const record = message as RequestRecord;
    if (record.gatewayId === this.gatewayId) this.inFlight.inc({ route: record.route });
  };
  private readonly onEnd = (message: unknown) => {
    const record = message as RequestRecord;
    if (record.gatewayId === this.gatewayId) this.recordEnd(record);
  };
  private readonly onUpstreamError = (message: unknown) => {
    const event = message as UpstreamErrorEvent;
    if (event.gatewayId !== this.gatewayId) return;
    this.upstreamErrors.inc({ provider: event.provider, kind: event.kind });
  };

  constructor(private readonly gatewayId: number) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'breakwater_process_' });
    this.requests = new Counter({ name: 'breakwater_requests_total', help: 'API requests answered, by route, model, provider and HTTP status', labelNames: ['route', 'model', 'provider', 'status'], registers });
    this.duration = new Histogram({ name: 'breakwater_request_duration_seconds', help: 'Time from request arrival to the last byte of the response', labelNames: ['route', 'model', 'provider'], buckets: llmLatencyBuckets, registers });
    this.timeToFirstToken = new Histogram({ name: 'breakwater_time_to_first_token_seconds', help: 'Time from request arrival to the first streamed chunk sent to the client', labelNames: ['model', 'provider'], buckets: llmLatencyBuckets, registers });
    this.inFlight = new Gauge({ name: 'breakwater_requests_in_flight', help: 'API requests being served now (streams included)', labelNames: ['route'], registers });
    this.upstreamErrors = new Counter({ name: 'breakwater_upstream_errors_total', help: 'Failed upstream calls, by provider and kind', labelNames: ['provider', 'kind'], registers });
    this.tokens = new Counter({ name: 'breakwater_tokens_total', help: 'Tokens reported by upstreams, by model, provider and type (input or output)', labelNames: ['model', 'provider', 'type'], registers });
    this.overhead = new Histogram({
      name: 'breakwater_gateway_overhead_seconds',
      help: 'Request duration minus the time spent waiting on upstreams (non-streamed requests that reached one): what the gateway itself costs',
      labelNames: ['route'],
      buckets: overheadBuckets,
      registers,
    });
    this.streamsInFlight = new Gauge({ name: 'breakwater_streams_in_flight', help: 'SSE streams open to clients now', registers });
    subscribe('breakwater:stream:start', this.onStreamStart);
    subscribe('breakwater:request:start', this.onStart);
    subscribe('breakwater:request:end', this.onEnd);
    subscribe('breakwater:upstream:error', this.onUpstreamError);
  }

  private recordEnd(record: RequestRecord): void {
    const model = record.modelLabel ?? 'none';
    const provider = record.provider ?? 'none';
    this.inFlight.dec({ route: record.route });
    this.requests.inc({ route: record.route, model, provider, status: String(record.status) });
    if (record.durationMs !== undefined) this.duration.observe({ route: record.route, model, provider }, record.durationMs / 1000);
    if (record.timeToFirstTokenMs !== undefined) this.timeToFirstToken.observe({ model, provider }, record.timeToFirstTokenMs / 1000);
    if (record.promptTokens) this.tokens.inc({ model, provider, type: 'input' }, record.promptTokens);
    if (record.completionTokens) this.tokens.inc({ model, provider, type: 'output' }, record.completionTokens);
    if (record.streamStarted) this.streamsInFlight.dec();
    else if (record.upstreamMs !== undefined && record.durationMs !== undefined) {
      this.overhead.observe({ route: record.route }, Math.max(0, record.durationMs - record.upstreamMs) / 1000);
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
