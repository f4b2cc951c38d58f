// Builds spans by subscribing to diagnostics channels: a server span per API request (breakwater:request:*) and a
// client span per upstream attempt (undici:request:*), with the W3C `traceparent` injected into the upstream request.
// Nothing on the request path imports this; with tracing off it is never loaded into a subscription.
// Correlation without AsyncLocalStorage (on Node 20 it installs promise hooks that slow every promise): the
// incoming request's headers are the ones Node announced just before the gateway's synchronous onRequest hook, and
// an upstream request belongs to the API request whose id it carries in `x-request-id` (every adapter sends it).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, trace, type Context, type Span, type TextMapPropagator, type TextMapSetter, type Tracer } from '@opentelemetry/api';
import type { RequestRecord, UpstreamErrorEvent } from './events.js';
import { rememberTraceId } from './tracing-ids.js';

/** The part of undici's Request object the channels hand us that we use. */
interface UndiciRequest {
  origin?: unknown;
  /** Flat name/value list as undici keeps it. */
  headers?: unknown;
  method: string;
  path: string;
  body?: unknown;
  addHeader(name: string, value: string): unknown;
}

/** `breakwater:upstream:attempt`, published by the reliability executor when an attempt ends (fields we read). */
interface AttemptNotice {
  gatewayId: number;
  requestId: string;
  provider: string;
  model: string;
  attempt: number;
  role: string;
  outcome: 'success' | 'failure';
  kind?: string;
}

interface AttemptTrace {
  span: Span;
  operation: string;
  status?: number;
  /** Epoch milliseconds when undici finished the exchange; the span ends then (or at the request's end, see below). */
  finishedAt?: number;
  ended: boolean;
  /** An attempt event has named its provider, model and outcome. */
  described: boolean;
  failed: boolean;
}

interface RequestTrace {
  span: Span;
  context: Context;
  record: RequestRecord;
  attempts: AttemptTrace[];
  ended: boolean;
}

interface IncomingRequest {
  method?: string;
  headers: IncomingHttpHeaders;
}

const traces = new WeakMap<RequestRecord, RequestTrace>();

const headerSetter: TextMapSetter<UndiciRequest> = {
  set(carrier, key, value) {
    carrier.addHeader(key, value);
  },
};

/** Epoch milliseconds for a performance.now() reading. */
function epoch(performanceMs: number): number {
  return performance.timeOrigin + performanceMs;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** The top-level `"model":"…"` of a JSON request body, without parsing it (only keys are unescaped quoted strings). */
export function modelInBody(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  const match = /"model"\s*:\s*"((?:[^"\\]|\\.){1,256})"/.exec(body);
  return match?.[1];
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!Array.isArray(headers)) return undefined;
  for (let index = 0; index + 1 < headers.length; index += 2) {
    const key: unknown = headers[index];
    if (typeof key === 'string' && key.toLowerCase() === name) {
      const value: unknown = headers[index + 1];
      return typeof value === 'string' ? value : undefined;
    }
  }
  return undefined;
}

function operationOf(path: string): string {
  const bare = path.split('?')[0] ?? path;
  if (bare.endsWith('/chat/completions') || bare.endsWith('/messages') || bare.includes(':generateContent') || bare.includes(':streamGenerateContent')) return 'chat';
  if (bare.endsWith('/embeddings') || bare.includes(':embedContent') || bare.includes(':batchEmbedContents')) return 'embeddings';
  if (bare.endsWith('/completions')) return 'text_completion';
  return 'other';
}

export class SpanBuilder {
  private readonly attempts = new WeakMap<object, AttemptTrace>();
  /** Open API requests by gateway and request id, for events that carry ids rather than the record. Emptied at request end. */
  private readonly open = new Map<string, RequestTrace>();
  /** Open API requests by request id alone: what an upstream request's `x-request-id` names. Emptied at request end. */
  private readonly byRequestId = new Map<string, RequestTrace>();
  /** The HTTP request Node announced last; the gateway's onRequest hook runs synchronously right after. */
  private incoming: IncomingRequest | undefined;
  private readonly subscriptions: Array<[string, (message: unknown) => void]>;

  constructor(
    private readonly tracer: Tracer,
    private readonly propagator: TextMapPropagator,
  ) {
    this.subscriptions = [
      ['http.server.request.start', (message) => this.onIncoming(message as { request: IncomingRequest })],
      ['breakwater:request:start', (message) => this.onRequestStart(message as RequestRecord)],
      ['breakwater:request:end', (message) => this.onRequestEnd(message as RequestRecord)],
      ['breakwater:upstream:attempt', (message) => this.onAttemptNotice(message as AttemptNotice)],
      ['breakwater:upstream:error', (message) => this.onUpstreamError(message as UpstreamErrorEvent)],
      ['undici:request:create', (message) => this.onUpstreamCreate((message as { request: UndiciRequest }).request)],
      ['undici:request:headers', (message) => this.onUpstreamHeaders(message as { request: object; response: { statusCode: number } })],
      ['undici:request:trailers', (message) => this.onUpstreamDone((message as { request: object }).request)],
      ['undici:request:error', (message) => this.onUpstreamTransportError(message as { request: object; error: unknown })],
    ];
    for (const [name, handler] of this.subscriptions) subscribe(name, handler);
  }

  close(): void {
    for (const [name, handler] of this.subscriptions) unsubscribe(name, handler);
  }

  private onIncoming(message: { request: IncomingRequest }): void {
    this.incoming = message.request;
  }

  private onRequestStart(record: RequestRecord): void {
    const incoming = this.incoming;
    this.incoming = undefined;
    // Only trust the announced headers if they are this request's (same method, and same id when the client sent one).
    const sentId = incoming?.headers['x-request-id'];
    const matches = incoming !== undefined && incoming.method === record.method && (typeof sentId !== 'string' || sentId === record.requestId);
    const parent = matches ? this.propagator.extract(ROOT_CONTEXT, incoming.headers, defaultTextMapGetter) : ROOT_CONTEXT;
    const span = this.tracer.startSpan(
      `${record.method} ${record.route}`,
      {
        kind: SpanKind.SERVER,
        startTime: epoch(record.startedAt),
        attributes: { 'http.request.method': record.method, 'http.route': record.route, 'breakwater.request_id': record.requestId },
      },
      parent,
    );
    const state: RequestTrace = { span, context: trace.setSpan(ROOT_CONTEXT, span), record, attempts: [], ended: false };
    traces.set(record, state);
    rememberTraceId(record, span.spanContext().traceId);
    this.open.set(`${record.gatewayId}:${record.requestId}`, state);
    this.byRequestId.set(record.requestId, state);
  }

  private onRequestEnd(record: RequestRecord): void {
    const state = traces.get(record);
    if (!state || state.ended) return;
    state.ended = true;
    this.open.delete(`${record.gatewayId}:${record.requestId}`);
    if (this.byRequestId.get(record.requestId) === state) this.byRequestId.delete(record.requestId);
    const { span } = state;
    span.setAttribute('http.response.status_code', record.status);
    if (record.model) span.setAttribute('gen_ai.request.model', record.model);
    if (record.provider) span.setAttribute('gen_ai.provider.name', record.provider);
    if (record.promptTokens !== undefined) span.setAttribute('gen_ai.usage.input_tokens', record.promptTokens);
    if (record.completionTokens !== undefined) span.setAttribute('gen_ai.usage.output_tokens', record.completionTokens);
    if (record.timeToFirstTokenMs !== undefined) span.setAttribute('breakwater.time_to_first_token_ms', record.timeToFirstTokenMs);
    if (record.errorCode) span.setAttribute('error.type', record.errorCode);
    if (record.clientClosed) span.setAttribute('breakwater.client_closed', true);
    if (record.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    // The attempt that served the response is kept open until now so it can carry the usage the response reported.
    const served = [...state.attempts].reverse().find((attempt) => !attempt.failed && attempt.status !== undefined && attempt.status < 400);
    for (const attempt of state.attempts) {
      if (attempt.ended) continue;
      if (attempt === served) this.describeServed(attempt, record);
      this.endAttempt(attempt, attempt.finishedAt ?? now());
    }
    span.end(record.durationMs === undefined ? now() : epoch(record.startedAt + record.durationMs));
  }

  private describeServed(attempt: AttemptTrace, record: RequestRecord): void {
    const { span } = attempt;
    if (!attempt.described) {
      if (record.provider) this.setProvider(span, record.provider);
      if (record.model) span.setAttribute('gen_ai.request.model', record.model);
    }
    if (record.promptTokens !== undefined) span.setAttribute('gen_ai.usage.input_tokens', record.promptTokens);
    if (record.completionTokens !== undefined) span.setAttribute('gen_ai.usage.output_tokens', record.completionTokens);
    const finishReason = (record as { finishReason?: unknown }).finishReason;
    if (typeof finishReason === 'string') span.setAttribute('gen_ai.response.finish_reasons', [finishReason]);
  }

  private setProvider(span: Span, provider: string): void {
    span.setAttribute('gen_ai.provider.name', provider);
    // The older name, still what many tracing backends group GenAI spans by.
    span.setAttribute('gen_ai.system', provider);
  }

  private onAttemptNotice(notice: AttemptNotice): void {
    const state = this.open.get(`${notice.gatewayId}:${notice.requestId}`);
    // Attempts of one request run one after another, so the oldest undescribed one is the attempt this event ends.
    const attempt = state?.attempts.find((candidate) => !candidate.described);
    if (!attempt) return;
    attempt.described = true;
    const { span } = attempt;
    this.setProvider(span, notice.provider);
    span.setAttribute('gen_ai.request.model', notice.model);
    span.updateName(`${attempt.operation} ${notice.model}`);
    span.setAttribute('breakwater.attempt', notice.attempt);
    span.setAttribute('breakwater.attempt.role', notice.role);
    if (notice.outcome === 'failure') {
      attempt.failed = true;
      if (notice.kind) span.setAttribute('error.type', notice.kind);
      span.setStatus({ code: SpanStatusCode.ERROR });
      if (!attempt.ended && attempt.finishedAt !== undefined) this.endAttempt(attempt, attempt.finishedAt);
    }
  }

  private onUpstreamError(event: UpstreamErrorEvent): void {
    const state = this.open.get(`${event.gatewayId}:${event.requestId}`);
    const attempt = state?.attempts.at(-1);
    if (!attempt) return;
    attempt.failed = true;
    attempt.span.setAttribute('error.type', event.kind);
    if (!attempt.described) this.setProvider(attempt.span, event.provider);
    attempt.span.setStatus({ code: SpanStatusCode.ERROR });
    if (!attempt.ended) this.endAttempt(attempt, attempt.finishedAt ?? now());
  }

  private onUpstreamCreate(request: UndiciRequest): void {
    const requestId = headerValue(request.headers, 'x-request-id');
    const state = requestId === undefined ? undefined : this.byRequestId.get(requestId);
    // Only calls made for an open API request; test clients and other HTTP in the process are not upstream attempts.
    if (!state || state.ended) return;
    const origin = typeof request.origin === 'string' ? request.origin : String(request.origin ?? '');
    const path = request.path.split('?')[0] ?? request.path; // never the query: some providers put keys there
    const operation = operationOf(path);
    const model = modelInBody(request.body);
    const attributes: Record<string, string | number> = { 'gen_ai.operation.name': operation, 'http.request.method': request.method, 'url.full': origin + path };
    if (model) attributes['gen_ai.request.model'] = model;
    try {
      const url = new URL(origin);
      attributes['server.address'] = url.hostname;
      attributes['server.port'] = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    } catch {
      // An origin undici accepted but URL does not: the span simply has no server.* attributes.
    }
    const span = this.tracer.startSpan(model ? `${operation} ${model}` : operation, { kind: SpanKind.CLIENT, attributes }, state.context);
    this.propagator.inject(trace.setSpan(ROOT_CONTEXT, span), request, headerSetter);
    const attempt: AttemptTrace = { span, operation, ended: false, described: false, failed: false };
    this.attempts.set(request, attempt);
    state.attempts.push(attempt);
  }

  private onUpstreamHeaders(message: { request: object; response: { statusCode: number } }): void {
    const attempt = this.attempts.get(message.request);
    if (!attempt) return;
    attempt.status = message.response.statusCode;
    attempt.span.setAttribute('http.response.status_code', attempt.status);
    if (attempt.status >= 400) {
      attempt.failed = true;
      attempt.span.setStatus({ code: SpanStatusCode.ERROR });
    }
  }

  private onUpstreamDone(request: object): void {
    const attempt = this.attempts.get(request);
    if (!attempt) return;
    attempt.finishedAt = now();
    // A failed exchange ends now; a served one waits for the request's end to carry its usage.
    if (attempt.failed) this.endAttempt(attempt, attempt.finishedAt);
  }

  private onUpstreamTransportError(message: { request: object; error: unknown }): void {
    const attempt = this.attempts.get(message.request);
    if (!attempt || attempt.ended) return;
    attempt.failed = true;
    const code = (message.error as { code?: unknown } | undefined)?.code;
    attempt.span.setAttribute('error.type', typeof code === 'string' ? code : (message.error as Error | undefined)?.name ?? 'Error');
    attempt.span.setStatus({ code: SpanStatusCode.ERROR });
    this.endAttempt(attempt, now());
  }

  private endAttempt(attempt: AttemptTrace, at: number): void {
    if (attempt.ended) return;
    attempt.ended = true;
    attempt.span.end(at);
  }
}
