// Named diagnostics channels the core publishes on; metrics and logs subscribe (they are never imported by the core).
import { channel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { UpstreamErrorKind } from '../core/errors.js';

/** What the gateway knows about one API request; filled in along the request path. */
export interface RequestRecord {
  /** Which gateway instance in this process (tests run several): subscribers only count their own. */
  gatewayId: number;
  requestId: string;
  route: string;
  method: string;
  /** performance.now() at arrival. */
  startedAt: number;
  model?: string;
  /** Bounded metric label for the model (configured names, or `other`). */
  modelLabel?: string;
  provider?: string;
  /** Model name sent to the upstream that served (or last tried): what the request is priced by. */
  upstreamModel?: string;
  stream: boolean;
  status: number;
  /** Milliseconds from arrival to the first streamed byte sent to the client. */
  timeToFirstTokenMs?: number;
  durationMs?: number;
  promptTokens?: number;
  completionTokens?: number;
  errorCode?: string;
  /** The client went away before the response was complete. */
  clientClosed: boolean;
  /** Cache outcome (hit, semantic-hit, miss, bypass) when the cache step ran. */
  cache?: string;
  /** Cosine similarity of the nearest cached question (semantic cache), when one was compared. */
  cacheSimilarity?: number;
  /** Upstream attempts made (retries and fallbacks included). */
  attempts?: number;
  /** Milliseconds spent waiting on upstreams: every attempt, to its answer (streams: to the first chunk). */
  upstreamMs?: number;
  /** The first choice's finish reason, when the answer had one. */
  finishReason?: string;
  /** An SSE stream was opened to the client (its headers were sent). */
  streamStarted?: boolean;
  /** Token counts were estimated by the gateway (a stream cut before the upstream reported usage). */
  usageEstimated?: boolean;
  /** Set by tracing on a sampled request: its pipeline steps keep their timings (`steps`) for child spans. */
  timeSteps?: boolean;
  /** performance.now() when the cache step began its lookup (timed requests only). */
  cacheLookupStartedAt?: number;
  /** Timed pipeline steps (rate limit, budget, cache lookup) of a sampled request. */
  steps?: StepTiming[];
  /** The span builder's state for this request while tracing is on (see tracing-ids.ts); opaque to everything else. */
  trace?: { traceId: string };
  /** The client's W3C `traceparent` and `tracestate` headers as they came (tracing continues the caller's trace). */
  traceparent?: string | string[];
  tracestate?: string | string[];
}

/**
 * A new API request's record. Every field is present from the start (undefined until known), so all records share
 * one hidden class: code that reads them (steps, metrics, logs, traces) stays monomorphic instead of meeting a shape
 * per path taken.
 */
export function newRequestRecord(gatewayId: number, requestId: string, route: string, method: string, traceparent: string | string[] | undefined, tracestate: string | string[] | undefined): RequestRecord {
  return {
    gatewayId,
    requestId,
    route,
    method,
    startedAt: performance.now(),
    model: undefined,
    modelLabel: undefined,
    provider: undefined,
    upstreamModel: undefined,
    stream: false,
    status: 0,
    timeToFirstTokenMs: undefined,
    durationMs: undefined,
    promptTokens: undefined,
    completionTokens: undefined,
    errorCode: undefined,
    clientClosed: false,
    cache: undefined,
    cacheSimilarity: undefined,
    attempts: undefined,
    upstreamMs: undefined,
    finishReason: undefined,
    streamStarted: undefined,
    usageEstimated: undefined,
    timeSteps: undefined,
    cacheLookupStartedAt: undefined,
    steps: undefined,
    trace: undefined,
    traceparent,
    tracestate,
  };
}

/** One pipeline step's admission work: when it ran (performance.now()) and how it ended. */
export interface StepTiming {
  name: 'rate limit' | 'budget' | 'cache lookup';
  startedAt: number;
  endedAt: number;
  /** `admitted`, an error code (`BW_ERR_RATE_LIMITED`…), or the cache outcome (`hit`, `miss`…). */
  outcome: string;
}

/** The time to pass as `startedAt` to `recordStep`: 0 unless tracing sampled the request (then one field read). */
export function stepStart(record: RequestRecord): number {
  return record.timeSteps === true ? performance.now() : 0;
}

export function recordStep(record: RequestRecord, name: StepTiming['name'], startedAt: number, outcome: string): void {
  if (startedAt === 0) return;
  (record.steps ??= []).push({ name, startedAt, endedAt: performance.now(), outcome });
}

/** One upstream attempt, published when it ends. */
export interface AttemptEvent {
  gatewayId: number;
  requestId: string;
  provider: string;
  model: string;
  /** 1-based attempt number within the request. */
  attempt: number;
  /** `first` (the request's first attempt), `retry` (same deployment again) or `fallback` (another deployment). */
  role: 'first' | 'retry' | 'fallback';
  outcome: 'success' | 'failure';
  /** Failure kind (UpstreamErrorKind) when it failed. */
  kind?: string;
  durationMs: number;
}

export interface BreakerEvent {
  gatewayId: number;
  deployment: string;
  from: string;
  to: string;
  reason: string;
}

export interface UpstreamErrorEvent {
  gatewayId: number;
  requestId: string;
  provider: string;
  kind: UpstreamErrorKind;
  status?: number;
}

export const requestStart = channel('breakwater:request:start');
export const requestEnd = channel('breakwater:request:end');
export const upstreamError = channel('breakwater:upstream:error');
export const upstreamAttempt = channel('breakwater:upstream:attempt');
export const breakerChange = channel('breakwater:breaker:change');
/** An SSE stream's headers went out to the client (the record is the message). */
export const streamStart = channel('breakwater:stream:start');
