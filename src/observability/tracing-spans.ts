// Builds spans by subscribing to diagnostics channels: a server span per API request (breakwater:request:*) and a
// client span per upstream attempt (breakwater:upstream:request:*, published by the upstream HTTP client), with the
// W3C `traceparent` handed to that client to send upstream.
// Nothing on the request path imports this; with tracing off it is never loaded into a subscription.
// Correlation without AsyncLocalStorage (on Node 20 it installs promise hooks that slow every promise): the record
// carries the client's `traceparent`/`tracestate`, and an upstream request belongs to the API request whose id it
// carries in `x-request-id` (every adapter sends it).
// Cost (profiled, see bench/RESULTS.md): sampling is decided once when a request starts and a request not sampled is
// never looked at again (unless it continues a caller's trace, which is then passed upstream unchanged); a sampled
// request keeps a few plain fields and its spans are written once, when they end, attribute by attribute into the
// span sink (straight into the OTLP batch buffer by default). undici's own diagnostics channels are not used: with
// a subscriber undici builds its messages for every request of the process.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { SpanKind, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { TraceState, parseTraceParent } from '@opentelemetry/core';
import type { UpstreamRequestMessage } from '../providers/http-client.js';
import type { RequestRecord, UpstreamErrorEvent } from './events.js';
import { attributeKey, type AttributeKey } from './otlp-trace-encoding.js';
import { rememberTrace, traceOf } from './tracing-ids.js';
import { newSpanId, newTraceId } from './tracing-random-ids.js';
import type { SampleDecider } from './tracing-sampler.js';
import type { SpanSink } from './tracing-span-sink.js';

/** `breakwater:upstream:request:*`, published by src/providers/http-client.ts. */
type UpstreamRequestNotice = UpstreamRequestMessage;

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
  context: SpanContext;
  /** Epoch milliseconds. */
  startMs: number;
  notice: UpstreamRequestNotice;
  /** Epoch milliseconds when the exchange was over; the span ends then (or at the request's end, see below). */
  finishedAtMs: number | undefined;
  ended: boolean;
  /** An attempt event has named its provider, model and outcome. */
  described: boolean;
  failed: boolean;
  provider: string | undefined;
  model: string | undefined;
  attempt: number | undefined;
  role: string | undefined;
  errorType: string | undefined;
}

/** An API request being traced: sampled (spans made at the end), or continuing a caller's unsampled trace. */
interface RequestTrace {
  /** Read by the request log line (tracing-ids.ts). */
  traceId: string;
  sampled: boolean;
  record: RequestRecord;
  /** The server span's context (sampled), or the caller's (not sampled: passed upstream as it came). */
  context: SpanContext;
  /** The caller's span, when the request continued a trace. */
  parent: SpanContext | undefined;
  /** Serialised once for every upstream request. */
  traceState: string | undefined;
  attempts: AttemptTrace[] | undefined;
  ended: boolean;
}

/** Epoch milliseconds for a performance.now() reading. */
function epoch(performanceMs: number): number {
  return performance.timeOrigin + performanceMs;
}

function now(): number {
  return performance.timeOrigin + performance.now();
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

const attributeNames = [
  'breakwater.attempt',
  'breakwater.attempt.role',
  'breakwater.budget.outcome',
  'breakwater.cache.similarity',
  'breakwater.client_closed',
  'breakwater.rate_limit.outcome',
  'breakwater.request_id',
  'breakwater.step.outcome',
  'breakwater.time_to_first_token_ms',
  'error.type',
  'gen_ai.operation.name',
  'gen_ai.provider.name',
  'gen_ai.request.model',
  'gen_ai.response.finish_reasons',
  'gen_ai.system',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'http.request.method',
  'http.response.status_code',
  'http.route',
  'server.address',
  'server.port',
  'url.full',
] as const;
/** Keys whose every value is new (ids, fractional timings): their encoded values are not worth remembering. */
const unrepeated = new Set<string>(['breakwater.request_id', 'breakwater.time_to_first_token_ms', 'breakwater.cache.similarity']);
/** Every attribute the builder writes, its key encoded once. */
const attribute = Object.fromEntries(attributeNames.map((name) => [name, attributeKey(name, { repeats: !unrepeated.has(name) })])) as Record<
  (typeof attributeNames)[number],
  AttributeKey
>;

const maxJoined = 256;
/**
 * `first + separator + second` for pairs that repeat (span names, upstream URLs), made once: the same string object
 * every time, so the encoder's lookup meets a flat string with its hash already computed instead of flattening and
 * hashing a new concatenation per span.
 */
class JoinedStrings {
  private readonly byFirst = new Map<string, Map<string, string>>();

  constructor(private readonly separator: string) {}

  get(first: string, second: string): string {
    let joined = this.byFirst.get(first);
    if (joined === undefined) {
      if (this.byFirst.size >= maxJoined) this.byFirst.clear();
      joined = new Map();
      this.byFirst.set(first, joined);
    }
    let value = joined.get(second);
    if (value === undefined) {
      value = first + this.separator + second;
      if (joined.size >= maxJoined) joined.clear();
      joined.set(second, value);
    }
    return value;
  }
}

/** Finish reasons as frozen one-element lists, one per reason (the encoder remembers a frozen value's bytes). */
const finishReasonLists = new Map<string, string[]>();
function finishReasonList(reason: string): string[] {
  let list = finishReasonLists.get(reason);
  if (list === undefined) {
    list = Object.freeze([reason]) as string[];
    if (finishReasonLists.size >= maxJoined) finishReasonLists.clear();
    finishReasonLists.set(reason, list);
  }
  return list;
}

/** server.address and server.port of an upstream origin; origins are the configured deployments, so few. */
interface ServerAddress {
  address?: string;
  port?: number;
}
const maxRememberedOrigins = 256;
/** A quick admission step shorter than this is an attribute of the server span, not a span of its own. */
const stepSpanMinMs = 1;

export class SpanBuilder {
  /** Open API requests by request id: what an upstream request's `x-request-id` names. Emptied at request end. */
  private readonly open = new Map<string, RequestTrace>();
  private readonly servers = new Map<string, ServerAddress>();
  /** `METHOD route` (server spans), `operation model` (client spans), origin + path (url.full). */
  private readonly serverSpanNames = new JoinedStrings(' ');
  private readonly clientSpanNames = new JoinedStrings(' ');
  private readonly urls = new JoinedStrings('');
  private readonly subscriptions: Array<[string, (message: unknown) => void]>;

  constructor(
    private readonly sink: SpanSink,
    private readonly sampled: SampleDecider,
  ) {
    this.subscriptions = [
      ['breakwater:request:start', (message) => this.onRequestStart(message as RequestRecord)],
      ['breakwater:request:end', (message) => this.onRequestEnd(message as RequestRecord)],
      ['breakwater:upstream:attempt', (message) => this.onAttemptNotice(message as AttemptNotice)],
      ['breakwater:upstream:error', (message) => this.onUpstreamError(message as UpstreamErrorEvent)],
      ['breakwater:upstream:request:start', (message) => this.onUpstreamStart(message as UpstreamRequestNotice)],
      ['breakwater:upstream:request:end', (message) => this.onUpstreamEnd(message as UpstreamRequestNotice)],
    ];
    for (const [name, handler] of this.subscriptions) subscribe(name, handler);
  }

  close(): void {
    for (const [name, handler] of this.subscriptions) unsubscribe(name, handler);
  }

  /** The caller's span context from a valid `traceparent` (and its `tracestate`), if the request came with one. */
  private callerOf(record: RequestRecord): SpanContext | undefined {
    const header = record.traceparent;
    if (typeof header !== 'string') return undefined;
    const parsed = parseTraceParent(header);
    if (!parsed) return undefined;
    const state = record.tracestate;
    const traceState = typeof state === 'string' && state !== '' ? new TraceState(state) : undefined;
    return { traceId: parsed.traceId, spanId: parsed.spanId, traceFlags: parsed.traceFlags, isRemote: true, ...(traceState ? { traceState } : {}) };
  }

  private onRequestStart(record: RequestRecord): void {
    const parent = this.callerOf(record);
    const traceId = parent?.traceId ?? newTraceId();
    const traceState = parent?.traceState?.serialize() || undefined;
    let state: RequestTrace;
    if (this.sampled(traceId, parent?.traceFlags)) {
      const context: SpanContext =
        parent?.traceState === undefined
          ? { traceId, spanId: newSpanId(), traceFlags: TraceFlags.SAMPLED }
          : { traceId, spanId: newSpanId(), traceFlags: TraceFlags.SAMPLED, traceState: parent.traceState };
      state = { traceId, sampled: true, record, context, parent, traceState, attempts: undefined, ended: false };
      record.timeSteps = true; // the rate-limit, budget and cache steps keep their timings for child spans
    } else if (parent) {
      // Not recorded here, but the caller's trace goes on upstream with its decision intact.
      state = { traceId, sampled: false, record, context: parent, parent, traceState, attempts: undefined, ended: false };
    } else {
      return; // not sampled and no trace to continue: nothing else is done for this request
    }
    rememberTrace(record, state);
    this.open.set(record.requestId, state);
  }

  private onRequestEnd(record: RequestRecord): void {
    const state = traceOf(record) as RequestTrace | undefined;
    if (!state || state.ended) return;
    state.ended = true;
    if (this.open.get(record.requestId) === state) this.open.delete(record.requestId);
    if (!state.sampled) return;
    const endMs = record.durationMs === undefined ? now() : epoch(record.startedAt + record.durationMs);
    const attempts = state.attempts;
    if (attempts !== undefined) {
      // The attempt that served the response is kept open until now so it can carry the usage the response reported.
      let served: AttemptTrace | undefined;
      for (let index = attempts.length - 1; index >= 0; index--) {
        const attempt = attempts[index] as AttemptTrace;
        const status = attempt.notice.statusCode;
        if (!attempt.failed && status !== undefined && status < 400) {
          served = attempt;
          break;
        }
      }
      for (const attempt of attempts) {
        if (!attempt.ended) this.endAttempt(state, attempt, attempt.finishedAtMs ?? now(), attempt === served ? record : undefined);
      }
    }
    const sink = this.sink;
    if (record.steps !== undefined) this.stepSpans(state, record);
    sink.begin(this.serverSpanNames.get(record.method, record.route), SpanKind.SERVER, state.context, state.parent, epoch(record.startedAt), endMs, record.status >= 500);
    sink.string(attribute['http.request.method'], record.method);
    sink.string(attribute['http.route'], record.route);
    sink.string(attribute['breakwater.request_id'], record.requestId);
    sink.number(attribute['http.response.status_code'], record.status);
    if (record.model) sink.string(attribute['gen_ai.request.model'], record.model);
    if (record.provider) sink.string(attribute['gen_ai.provider.name'], record.provider);
    if (record.promptTokens !== undefined) sink.number(attribute['gen_ai.usage.input_tokens'], record.promptTokens);
    if (record.completionTokens !== undefined) sink.number(attribute['gen_ai.usage.output_tokens'], record.completionTokens);
    if (record.timeToFirstTokenMs !== undefined) sink.number(attribute['breakwater.time_to_first_token_ms'], record.timeToFirstTokenMs);
    if (record.errorCode) sink.string(attribute['error.type'], record.errorCode);
    if (record.clientClosed) sink.value(attribute['breakwater.client_closed'], true);
    if (record.steps !== undefined) this.stepAttributes(record);
    sink.end();
    // Nothing of the attempts is read again; the record can outlive the request (the log line reads its trace id).
    state.attempts = undefined;
  }

  /**
   * An internal child span per timed pipeline step worth one: a cache lookup, a step that refused or could not decide,
   * or one that took a millisecond or more (waiting on Redis, say). A quick admission is only an attribute of the
   * server span (`breakwater.rate_limit.outcome`…): a span each would cost more than the step it describes.
   */
  private stepSpans(state: RequestTrace, record: RequestRecord): void {
    const sink = this.sink;
    for (const step of record.steps ?? []) {
      if (step.name !== 'cache lookup' && step.outcome === 'admitted' && step.endedAt - step.startedAt < stepSpanMinMs) continue;
      const context: SpanContext = { traceId: state.context.traceId, spanId: newSpanId(), traceFlags: TraceFlags.SAMPLED };
      // A refusal (429, budget) is the step doing its job; only a step that could not decide is an error.
      const failed = step.outcome === 'error' || step.outcome.endsWith('_UNAVAILABLE');
      sink.begin(`breakwater ${step.name}`, SpanKind.INTERNAL, context, state.context, epoch(step.startedAt), epoch(step.endedAt), failed);
      sink.string(attribute['breakwater.step.outcome'], step.outcome);
      if (step.name === 'cache lookup' && record.cacheSimilarity !== undefined) sink.number(attribute['breakwater.cache.similarity'], record.cacheSimilarity);
      sink.end();
    }
  }

  /** Quick admissions as attributes of the server span (see stepSpans). */
  private stepAttributes(record: RequestRecord): void {
    for (const step of record.steps ?? []) {
      if (step.name === 'rate limit') this.sink.string(attribute['breakwater.rate_limit.outcome'], step.outcome);
      else if (step.name === 'budget') this.sink.string(attribute['breakwater.budget.outcome'], step.outcome);
    }
  }

  private openRequest(gatewayId: number, requestId: string): RequestTrace | undefined {
    const state = this.open.get(requestId);
    return state && state.sampled && state.record.gatewayId === gatewayId ? state : undefined;
  }

  private onAttemptNotice(notice: AttemptNotice): void {
    const state = this.openRequest(notice.gatewayId, notice.requestId);
    if (!state || state.attempts === undefined) return;
    // Attempts of one request run one after another, so the oldest undescribed one is the attempt this event ends.
    let attempt: AttemptTrace | undefined;
    for (const candidate of state.attempts) {
      if (!candidate.described) {
        attempt = candidate;
        break;
      }
    }
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
    const attempt = state?.attempts?.at(-1);
    if (!state || !attempt) return;
    attempt.failed = true;
    attempt.errorType ??= event.kind;
    attempt.provider ??= event.provider;
    if (!attempt.ended) this.endAttempt(state, attempt, attempt.finishedAtMs ?? now());
  }

  private onUpstreamStart(notice: UpstreamRequestNotice): void {
    // Only calls made for an open API request (the id the adapter sends); anything else is not an attempt of ours.
    const requestId = notice.requestId;
    const state = requestId === undefined ? undefined : this.open.get(requestId);
    if (!state || state.ended) return;
    if (state.traceState !== undefined) notice.tracestate = state.traceState;
    if (!state.sampled) {
      notice.traceparent = traceparentOf(state.context);
      return;
    }
    const context: SpanContext = { traceId: state.context.traceId, spanId: newSpanId(), traceFlags: TraceFlags.SAMPLED };
    const attempt: AttemptTrace = {
      context,
      startMs: now(),
      notice,
      finishedAtMs: undefined,
      ended: false,
      described: false,
      failed: false,
      provider: undefined,
      model: undefined,
      attempt: undefined,
      role: undefined,
      errorType: undefined,
    };
    notice.traceparent = `00-${context.traceId}-${context.spanId}-01`;
    notice.context = attempt;
    if (state.attempts === undefined) state.attempts = [attempt];
    else state.attempts.push(attempt);
  }

  private onUpstreamEnd(notice: UpstreamRequestNotice): void {
    const attempt = notice.context as AttemptTrace | undefined;
    if (attempt === undefined || attempt.ended || attempt.notice !== notice) return;
    attempt.finishedAtMs = now();
    if (notice.statusCode !== undefined && notice.statusCode >= 400) attempt.failed = true;
    if (notice.error !== undefined) {
      attempt.failed = true;
      const code = (notice.error as { code?: unknown } | null)?.code;
      attempt.errorType ??= typeof code === 'string' ? code : ((notice.error as Error | null)?.name ?? 'Error');
    }
    // A failed exchange ends once an attempt event has described it (or at the request's end); a served one waits
    // for the request's end to carry its usage.
  }

  private serverAddress(origin: string): ServerAddress {
    let server = this.servers.get(origin);
    if (server) return server;
    server = {};
    try {
      const url = new URL(origin);
      server = { address: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
    } catch {
      // An origin the client accepted but URL does not: the span simply has no server.* attributes.
    }
    if (this.servers.size >= maxRememberedOrigins) this.servers.clear();
    this.servers.set(origin, server);
    return server;
  }

  /** Writes the attempt's span; `served` is the API request whose response this attempt delivered (usage, finish). */
  private endAttempt(state: RequestTrace, attempt: AttemptTrace, atMs: number, served?: RequestRecord): void {
    if (attempt.ended) return;
    attempt.ended = true;
    const notice = attempt.notice;
    const query = notice.path.indexOf('?');
    const path = query === -1 ? notice.path : notice.path.slice(0, query);
    const operation = operationOf(path);
    const provider = attempt.provider ?? (served ? served.provider : undefined);
    const model = attempt.model ?? notice.model ?? (served ? served.model : undefined);
    const failed = attempt.failed || (notice.statusCode !== undefined && notice.statusCode >= 400);
    const sink = this.sink;
    sink.begin(model ? this.clientSpanNames.get(operation, model) : operation, SpanKind.CLIENT, attempt.context, state.context, attempt.startMs, atMs, failed);
    sink.string(attribute['gen_ai.operation.name'], operation);
    sink.string(attribute['http.request.method'], notice.method);
    sink.string(attribute['url.full'], this.urls.get(notice.origin, path));
    if (model) sink.string(attribute['gen_ai.request.model'], model);
    const server = this.serverAddress(notice.origin);
    if (server.address !== undefined) sink.string(attribute['server.address'], server.address);
    if (server.port !== undefined) sink.number(attribute['server.port'], server.port);
    if (notice.statusCode !== undefined) sink.number(attribute['http.response.status_code'], notice.statusCode);
    if (provider) {
      sink.string(attribute['gen_ai.provider.name'], provider);
      // The older name, still what many tracing backends group GenAI spans by.
      sink.string(attribute['gen_ai.system'], provider);
    }
    if (attempt.attempt !== undefined) sink.number(attribute['breakwater.attempt'], attempt.attempt);
    if (attempt.role !== undefined) sink.string(attribute['breakwater.attempt.role'], attempt.role);
    if (attempt.errorType !== undefined) sink.string(attribute['error.type'], attempt.errorType);
    if (served) {
      if (served.promptTokens !== undefined) sink.number(attribute['gen_ai.usage.input_tokens'], served.promptTokens);
      if (served.completionTokens !== undefined) sink.number(attribute['gen_ai.usage.output_tokens'], served.completionTokens);
      if (served.finishReason) sink.value(attribute['gen_ai.response.finish_reasons'], finishReasonList(served.finishReason));
    }
    sink.end();
  }
}
