// Builds spans by subscribing to diagnostics channels: a server span per API request (breakwater:request:*) and a
// client span per upstream attempt (undici:request:*), with the W3C `traceparent` injected into the upstream request.
// Nothing on the request path imports this; with tracing off it is never loaded into a subscription.
// Correlation without AsyncLocalStorage (on Node 20 it installs promise hooks that slow every promise): the
// incoming request's headers are the ones Node announced just before the gateway's synchronous onRequest hook, and
// an upstream request belongs to the API request whose id it carries in `x-request-id` (every adapter sends it).
// Cost (profiled, see bench/RESULTS.md): sampling is decided once when a request starts and a request not sampled is
// never looked at again (unless it continues a caller's trace, which is then passed upstream unchanged); a sampled
// request keeps a few plain fields and its spans are made once, when they end, as finished spans handed straight
// to the span processor, instead of driving the SDK's live spans event by event.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type SpanContext, type SpanStatus } from '@opentelemetry/api';
import { TraceState, parseTraceParent } from '@opentelemetry/core';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { RequestRecord, UpstreamErrorEvent } from './events.js';
import { FinishedSpan, type SpanOrigin } from './tracing-finished-span.js';
import { rememberTraceId } from './tracing-ids.js';
import { newSpanId, newTraceId } from './tracing-random-ids.js';
import type { SampleDecider } from './tracing-sampler.js';

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

/** One upstream attempt of a sampled request, until its span is made. */
interface AttemptTrace {
  spanId: string;
  /** Epoch milliseconds. */
  startMs: number;
  method: string;
  origin: string;
  /** Without the query string: some providers put keys there. */
  path: string;
  /** The upstream request body, read for the model only if no attempt event names it. */
  body: unknown;
  status?: number;
  /** Epoch milliseconds when undici finished the exchange; the span ends then (or at the request's end, see below). */
  finishedAtMs?: number;
  ended: boolean;
  /** An attempt event has named its provider, model and outcome. */
  described: boolean;
  failed: boolean;
  provider?: string;
  model?: string;
  attempt?: number;
  role?: string;
  errorType?: string;
}

/** An API request being traced: sampled (spans made at the end), or continuing a caller's unsampled trace. */
interface RequestTrace {
  sampled: boolean;
  record: RequestRecord;
  /** The server span's context (sampled), or the caller's (not sampled: passed upstream as it came). */
  context: SpanContext;
  /** The caller's span, when the request continued a trace. */
  parent: SpanContext | undefined;
  attempts: AttemptTrace[];
  ended: boolean;
}

interface IncomingRequest {
  method?: string;
  headers: IncomingHttpHeaders;
}

// The builder's state rides on the record (a symbol key: invisible to everything else), found again at its end.
const traceField = Symbol('breakwater.requestTrace');
type TracedRecord = RequestRecord & { [traceField]?: RequestTrace };

const unset: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
const error: SpanStatus = Object.freeze({ code: SpanStatusCode.ERROR });

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

/** `x-request-id` from undici's flat header list; adapters add it last and in lower case, so look from the end. */
function requestIdHeader(headers: unknown): string | undefined {
  if (!Array.isArray(headers)) return undefined;
  for (let index = headers.length - 2; index >= 0; index -= 2) {
    const key: unknown = headers[index];
    if (typeof key === 'string' && key.length === 12 && (key === 'x-request-id' || key.toLowerCase() === 'x-request-id')) {
      const value: unknown = headers[index + 1];
      return typeof value === 'string' ? value : undefined;
    }
  }
  return undefined;
}

function operationOf(path: string): string {
  if (path.endsWith('/chat/completions') || path.endsWith('/messages') || path.includes(':generateContent') || path.includes(':streamGenerateContent')) return 'chat';
  if (path.endsWith('/embeddings') || path.includes(':embedContent') || path.includes(':batchEmbedContents')) return 'embeddings';
  if (path.endsWith('/completions')) return 'text_completion';
  return 'other';
}

function traceparentOf(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.traceFlags & TraceFlags.SAMPLED ? '01' : '00'}`;
}

/** server.address and server.port of an upstream origin; origins are the configured deployments, so few. */
interface ServerAddress {
  address?: string;
  port?: number;
}
const maxRememberedOrigins = 256;

export class SpanBuilder {
  private readonly attempts = new WeakMap<object, AttemptTrace>();
  /** Open API requests by request id: what an upstream request's `x-request-id` names. Emptied at request end. */
  private readonly open = new Map<string, RequestTrace>();
  private readonly servers = new Map<string, ServerAddress>();
  /** The HTTP request Node announced last; the gateway's onRequest hook runs synchronously right after. */
  private incoming: IncomingRequest | undefined;
  private readonly subscriptions: Array<[string, (message: unknown) => void]>;

  constructor(
    private readonly processor: SpanProcessor,
    private readonly origin: SpanOrigin,
    private readonly sampled: SampleDecider,
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

  /** The caller's span context from a valid `traceparent` (and its `tracestate`), if the request came with one. */
  private callerOf(record: RequestRecord): SpanContext | undefined {
    const incoming = this.incoming;
    this.incoming = undefined;
    const header = incoming?.headers.traceparent;
    if (incoming === undefined || typeof header !== 'string') return undefined;
    // Only trust the announced headers if they are this request's (same method, and same id when the client sent one).
    const sentId = incoming.headers['x-request-id'];
    if (incoming.method !== record.method || (typeof sentId === 'string' && sentId !== record.requestId)) return undefined;
    const parsed = parseTraceParent(header);
    if (!parsed) return undefined;
    const state = incoming.headers.tracestate;
    const traceState = typeof state === 'string' && state !== '' ? new TraceState(state) : undefined;
    return { traceId: parsed.traceId, spanId: parsed.spanId, traceFlags: parsed.traceFlags, isRemote: true, ...(traceState ? { traceState } : {}) };
  }

  private onRequestStart(record: RequestRecord): void {
    const parent = this.callerOf(record);
    const traceId = parent?.traceId ?? newTraceId();
    let state: RequestTrace;
    if (this.sampled(traceId, parent?.traceFlags)) {
      const context: SpanContext = { traceId, spanId: newSpanId(), traceFlags: TraceFlags.SAMPLED, ...(parent?.traceState ? { traceState: parent.traceState } : {}) };
      state = { sampled: true, record, context, parent, attempts: [], ended: false };
    } else if (parent) {
      // Not recorded here, but the caller's trace goes on upstream with its decision intact.
      state = { sampled: false, record, context: parent, parent, attempts: [], ended: false };
    } else {
      return; // not sampled and no trace to continue: nothing else is done for this request
    }
    (record as TracedRecord)[traceField] = state;
    rememberTraceId(record, traceId);
    this.open.set(record.requestId, state);
  }

  private onRequestEnd(record: RequestRecord): void {
    const state = (record as TracedRecord)[traceField];
    if (!state || state.ended) return;
    state.ended = true;
    if (this.open.get(record.requestId) === state) this.open.delete(record.requestId);
    if (!state.sampled) return;
    const endMs = record.durationMs === undefined ? now() : epoch(record.startedAt + record.durationMs);
    // The attempt that served the response is kept open until now so it can carry the usage the response reported.
    let served: AttemptTrace | undefined;
    for (let index = state.attempts.length - 1; index >= 0; index--) {
      const attempt = state.attempts[index] as AttemptTrace;
      if (!attempt.failed && attempt.status !== undefined && attempt.status < 400) {
        served = attempt;
        break;
      }
    }
    for (const attempt of state.attempts) {
      if (!attempt.ended) this.endAttempt(state, attempt, attempt.finishedAtMs ?? now(), attempt === served ? record : undefined);
    }
    const attributes: Attributes = {
      'http.request.method': record.method,
      'http.route': record.route,
      'breakwater.request_id': record.requestId,
      'http.response.status_code': record.status,
    };
    if (record.model) attributes['gen_ai.request.model'] = record.model;
    if (record.provider) attributes['gen_ai.provider.name'] = record.provider;
    if (record.promptTokens !== undefined) attributes['gen_ai.usage.input_tokens'] = record.promptTokens;
    if (record.completionTokens !== undefined) attributes['gen_ai.usage.output_tokens'] = record.completionTokens;
    if (record.timeToFirstTokenMs !== undefined) attributes['breakwater.time_to_first_token_ms'] = record.timeToFirstTokenMs;
    if (record.errorCode) attributes['error.type'] = record.errorCode;
    if (record.clientClosed) attributes['breakwater.client_closed'] = true;
    const span = new FinishedSpan(
      {
        name: `${record.method} ${record.route}`,
        kind: SpanKind.SERVER,
        context: state.context,
        parent: state.parent,
        startMs: epoch(record.startedAt),
        endMs,
        status: record.status >= 500 ? error : unset,
        attributes,
      },
      this.origin,
    );
    this.processor.onEnd(span);
  }

  private openRequest(gatewayId: number, requestId: string): RequestTrace | undefined {
    const state = this.open.get(requestId);
    return state && state.sampled && state.record.gatewayId === gatewayId ? state : undefined;
  }

  private onAttemptNotice(notice: AttemptNotice): void {
    const state = this.openRequest(notice.gatewayId, notice.requestId);
    if (!state) return;
    // Attempts of one request run one after another, so the oldest undescribed one is the attempt this event ends.
    const attempt = state.attempts.find((candidate) => !candidate.described);
    if (!attempt) return;
    attempt.described = true;
    attempt.provider = notice.provider;
    attempt.model = notice.model;
    attempt.attempt = notice.attempt;
    attempt.role = notice.role;
    if (notice.outcome === 'failure') {
      attempt.failed = true;
      // A transport error's own code (set first) is more precise than the executor's classification.
      attempt.errorType ??= notice.kind;
      if (!attempt.ended && attempt.finishedAtMs !== undefined) this.endAttempt(state, attempt, attempt.finishedAtMs);
    }
  }

  private onUpstreamError(event: UpstreamErrorEvent): void {
    const state = this.openRequest(event.gatewayId, event.requestId);
    const attempt = state?.attempts.at(-1);
    if (!state || !attempt) return;
    attempt.failed = true;
    attempt.errorType ??= event.kind;
    attempt.provider ??= event.provider;
    if (!attempt.ended) this.endAttempt(state, attempt, attempt.finishedAtMs ?? now());
  }

  private onUpstreamCreate(request: UndiciRequest): void {
    // Only calls made for an open API request; test clients and other HTTP in the process are not upstream attempts.
    if (this.open.size === 0) return;
    const requestId = requestIdHeader(request.headers);
    const state = requestId === undefined ? undefined : this.open.get(requestId);
    if (!state || state.ended) return;
    const traceState = state.context.traceState?.serialize();
    if (!state.sampled) {
      request.addHeader('traceparent', traceparentOf(state.context));
      if (traceState) request.addHeader('tracestate', traceState);
      return;
    }
    const origin = typeof request.origin === 'string' ? request.origin : String(request.origin ?? '');
    const query = request.path.indexOf('?');
    const attempt: AttemptTrace = {
      spanId: newSpanId(),
      startMs: now(),
      method: request.method,
      origin,
      path: query === -1 ? request.path : request.path.slice(0, query),
      body: request.body,
      ended: false,
      described: false,
      failed: false,
    };
    request.addHeader('traceparent', `00-${state.context.traceId}-${attempt.spanId}-01`);
    if (traceState) request.addHeader('tracestate', traceState);
    this.attempts.set(request, attempt);
    state.attempts.push(attempt);
  }

  private onUpstreamHeaders(message: { request: object; response: { statusCode: number } }): void {
    const attempt = this.attempts.get(message.request);
    if (!attempt) return;
    attempt.status = message.response.statusCode;
    if (attempt.status >= 400) attempt.failed = true;
  }

  private onUpstreamDone(request: object): void {
    const attempt = this.attempts.get(request);
    if (!attempt) return;
    attempt.finishedAtMs = now();
    // A failed exchange ends once an attempt event has described it (or at the request's end); a served one waits
    // for the request's end to carry its usage.
  }

  private onUpstreamTransportError(message: { request: object; error: unknown }): void {
    const attempt = this.attempts.get(message.request);
    if (!attempt || attempt.ended) return;
    attempt.failed = true;
    const code = (message.error as { code?: unknown } | undefined)?.code;
    attempt.errorType ??= typeof code === 'string' ? code : ((message.error as Error | undefined)?.name ?? 'Error');
    attempt.finishedAtMs = now();
  }

  private serverAddress(origin: string): ServerAddress {
    let server = this.servers.get(origin);
    if (server) return server;
    server = {};
    try {
      const url = new URL(origin);
      server = { address: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
    } catch {
      // An origin undici accepted but URL does not: the span simply has no server.* attributes.
    }
    if (this.servers.size >= maxRememberedOrigins) this.servers.clear();
    this.servers.set(origin, server);
    return server;
  }

  /** Makes the attempt's span; `served` is the API request whose response this attempt delivered (usage, finish). */
  private endAttempt(state: RequestTrace, attempt: AttemptTrace, atMs: number, served?: RequestRecord): void {
    if (attempt.ended) return;
    attempt.ended = true;
    const operation = operationOf(attempt.path);
    const provider = attempt.provider ?? (served ? served.provider : undefined);
    const model = attempt.model ?? modelInBody(attempt.body) ?? (served ? served.model : undefined);
    const attributes: Attributes = {
      'gen_ai.operation.name': operation,
      'http.request.method': attempt.method,
      'url.full': attempt.origin + attempt.path,
    };
    if (model) attributes['gen_ai.request.model'] = model;
    const server = this.serverAddress(attempt.origin);
    if (server.address !== undefined) attributes['server.address'] = server.address;
    if (server.port !== undefined) attributes['server.port'] = server.port;
    if (attempt.status !== undefined) attributes['http.response.status_code'] = attempt.status;
    if (provider) {
      attributes['gen_ai.provider.name'] = provider;
      // The older name, still what many tracing backends group GenAI spans by.
      attributes['gen_ai.system'] = provider;
    }
    if (attempt.attempt !== undefined) attributes['breakwater.attempt'] = attempt.attempt;
    if (attempt.role !== undefined) attributes['breakwater.attempt.role'] = attempt.role;
    if (attempt.errorType !== undefined) attributes['error.type'] = attempt.errorType;
    if (served) {
      if (served.promptTokens !== undefined) attributes['gen_ai.usage.input_tokens'] = served.promptTokens;
      if (served.completionTokens !== undefined) attributes['gen_ai.usage.output_tokens'] = served.completionTokens;
      if (served.finishReason) attributes['gen_ai.response.finish_reasons'] = [served.finishReason];
    }
    const span = new FinishedSpan(
      {
        name: model ? `${operation} ${model}` : operation,
        kind: SpanKind.CLIENT,
        context: { traceId: state.context.traceId, spanId: attempt.spanId, traceFlags: TraceFlags.SAMPLED },
        parent: state.context,
        startMs: attempt.startMs,
        endMs: atMs,
        status: attempt.failed ? error : unset,
        attributes,
      },
      this.origin,
    );
    this.processor.onEnd(span);
  }
}
