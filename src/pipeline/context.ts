// What every step of the request path may know about the request being served, besides its body.
import type { ChatRequest, EmbeddingsRequest, StreamChunk } from '../core/types.js';
import type { RequestRecord } from '../observability/events.js';
import type { ChatResult, EmbeddingsResult } from '../providers/types.js';
import type { CancelSignal } from '../core/cancellation.js';

/** Who is calling: set by authentication; used for limits, budgets, cache and idempotency scoping. */
export interface Principal {
  /** Stable id of the API key used (never the secret); `master` for the master key, `anonymous` when auth is off. */
  keyId: string;
  team?: string;
  user?: string;
  tier?: string;
}

export interface PipelineContext {
  record: RequestRecord;
  /** Aborted when the client disconnects. */
  signal: CancelSignal;
  clientHeaders: Record<string, string | string[] | undefined>;
  principal: Principal;
  /** Headers steps want on the response (success or error): rate-limit state, cache status… */
  responseHeaders: Record<string, string>;
}

export type ChatOutcome = { kind: 'json'; result: ChatResult } | { kind: 'stream'; stream: AsyncIterable<StreamChunk> };

/**
 * One step of the request path. It may reject (throw), answer by itself without calling `next`
 * (cache hit, idempotent replay), or call `next` and observe or wrap what comes back (accounting wraps
 * a stream to see its usage at the end). Steps never import each other; the gateway composes them.
 */
export type Step<Request, Outcome> = (request: Request, context: PipelineContext, next: (request: Request) => Promise<Outcome>) => Promise<Outcome>;
export type ChatStep = Step<ChatRequest, ChatOutcome>;
export type EmbeddingsStep = Step<EmbeddingsRequest, EmbeddingsResult>;

export type Handler<Request, Outcome> = (request: Request, context: PipelineContext) => Promise<Outcome>;

/** Composes steps around a terminal handler, first step outermost. Built once at start-up, not per request. */
export function compose<Request, Outcome>(steps: ReadonlyArray<Step<Request, Outcome>>, terminal: Handler<Request, Outcome>): Handler<Request, Outcome> {
  return steps.reduceRight<Handler<Request, Outcome>>((next, step) => (request, context) => step(request, context, (inner) => next(inner, context)), terminal);
}
