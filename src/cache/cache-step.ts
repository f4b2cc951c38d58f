// The cache as a step of the request path: answers hits (exact, then semantic) as JSON or as a replayed stream,
// coalesces identical misses, and stores what the upstream answered — only complete answers, never errors.
import type { ChatRequest, StreamChunk } from '../core/types.js';
import type { ChatOutcome, ChatStep, PipelineContext } from '../pipeline/context.js';
import type { CacheEntry } from './cache-entry.js';
import { recordStep, stepStart } from '../observability/events.js';
import { publishCacheEvent, type CacheOutcome } from './cache-events.js';
import { conversationFingerprint, exactKey, lastUserText, tenantHash, type CacheScope } from './cache-key.js';
import type { CacheDecision, CachePolicy } from './cache-policy.js';
import type { ResponseCache } from './response-cache.js';
import type { PreparedQuery } from './semantic/semantic-cache.js';
import { replayCompletion, StreamAssembler } from './stream-replay.js';

/** How many times a request whose leader produced nothing cacheable tries again to follow or lead before going alone. */
const maxCoalesceRounds = 3;

export function createCacheStep(cache: ResponseCache, policy: CachePolicy): ChatStep {
  return async (request, context, next) => {
    const startedAt = stepStart(context.record);
    if (startedAt !== 0) context.record.cacheLookupStartedAt = startedAt;
    const decision = policy.decide(request, context.clientHeaders);
    if (!decision) {
      mark(cache, context, 'bypass');
      return next(request);
    }
    const scope: CacheScope = { namespace: decision.namespace, tenant: context.principal.team ?? context.principal.keyId };
    const key = exactKey(scope, request);
    context.responseHeaders['x-breakwater-cache-key'] = key;
    let query: PreparedQuery | undefined;
    if (decision.lookup) {
      const exact = await cache.get(key);
      if (exact) return serve(cache, exact, 'hit', request, context);
      if (decision.semantic) {
        query = await prepareQuery(cache, request, scope, context);
        const similar = query ? await findSimilar(cache, query, context) : undefined;
        if (similar) return serve(cache, similar, 'semantic-hit', request, context);
      }
    }
    for (let round = 0; round < maxCoalesceRounds; round++) {
      const settle = cache.coalescer.lead(key);
      if (settle) return callAndStore(cache, request, context, next, { key, decision, scope, query, settle });
      if (!decision.lookup) break;
      const awaited = await cache.coalescer.follow(key, context.signal);
      if (awaited) return serve(cache, awaited, 'hit', request, context);
    }
    return callAndStore(cache, request, context, next, { key, decision, scope, query, settle: undefined });
  };
}

interface MissPlan {
  key: string;
  decision: CacheDecision;
  scope: CacheScope;
  query: PreparedQuery | undefined;
  /** Hands the stored entry (or nothing) to the requests waiting on this one; undefined when not leading. */
  settle: ((entry: CacheEntry | undefined) => void) | undefined;
}

async function callAndStore(cache: ResponseCache, request: ChatRequest, context: PipelineContext, next: (request: ChatRequest) => Promise<ChatOutcome>, plan: MissPlan): Promise<ChatOutcome> {
  mark(cache, context, 'miss');
  let outcome: ChatOutcome;
  try {
    outcome = await next(request);
  } catch (error) {
    plan.settle?.(undefined);
    throw error;
  }
  if (outcome.kind === 'json') {
    void store(cache, request, context, plan, outcome.result.raw);
    return outcome;
  }
  const assembler = new StreamAssembler();
  const upstream = outcome.stream;
  async function* observed(): AsyncGenerator<StreamChunk> {
    let complete = false;
    try {
      for await (const item of upstream) {
        assembler.add(item);
        yield item;
      }
      complete = true;
    } finally {
      const completion = complete ? assembler.completion() : undefined;
      if (completion) void store(cache, request, context, plan, JSON.stringify(completion));
      else {
        publishCacheEvent({ gatewayId: cache.gatewayId, type: 'store-skipped', reason: 'incomplete' });
        plan.settle?.(undefined);
      }
    }
  }
  return { kind: 'stream', stream: observed() };
}

async function store(cache: ResponseCache, request: ChatRequest, context: PipelineContext, plan: MissPlan, raw: string): Promise<void> {
  let entry: CacheEntry | undefined;
  try {
    const now = cache.now();
    entry = { v: 1, key: plan.key, namespace: plan.decision.namespace, createdAt: now, expiresAt: now + plan.decision.ttlMs, raw };
    if (context.record.model) entry.model = context.record.model;
    if (context.record.modelLabel) entry.modelLabel = context.record.modelLabel;
    if (context.record.provider) entry.provider = context.record.provider;
    if (plan.decision.semantic && cache.semantic) {
      // With no-cache the question was not embedded on the way in; the answer is out already, so this costs no latency.
      const query = plan.query ?? (await prepareQuery(cache, request, plan.scope, context).catch(() => undefined));
      if (query) entry.semantic = cache.semantic.record(query);
    }
    if (!cache.put(entry)) entry = undefined;
  } catch (error) {
    entry = undefined;
    publishCacheEvent({ gatewayId: cache.gatewayId, type: 'store-skipped', reason: 'error' });
    cache.backendError('store', error);
  } finally {
    plan.settle?.(entry);
  }
}

async function prepareQuery(cache: ResponseCache, request: ChatRequest, scope: CacheScope, context: PipelineContext): Promise<PreparedQuery | undefined> {
  const semantic = cache.semantic;
  const text = lastUserText(request);
  if (!semantic || text === undefined) return undefined;
  try {
    return await semantic.prepare(text, `${scope.namespace}:${tenantHash(scope.tenant)}\u0000${conversationFingerprint(request)}`, context.signal);
  } catch (error) {
    // An embeddings provider that fails or is slow turns the semantic lookup off for this request, nothing more.
    cache.backendError('embed', error);
    return undefined;
  }
}

async function findSimilar(cache: ResponseCache, query: PreparedQuery, context: PipelineContext): Promise<CacheEntry | undefined> {
  const lookup = cache.semantic?.find(query);
  if (!lookup) return undefined;
  for (const reason of lookup.rejections) publishCacheEvent({ gatewayId: cache.gatewayId, type: 'guard-rejection', reason });
  if (lookup.bestSimilarity !== undefined) context.record.cacheSimilarity = round(lookup.bestSimilarity);
  if (lookup.key === undefined) return undefined;
  const entry = await cache.get(lookup.key);
  if (entry && lookup.similarity !== undefined) context.record.cacheSimilarity = round(lookup.similarity);
  return entry;
}

function serve(cache: ResponseCache, entry: CacheEntry, outcome: 'hit' | 'semantic-hit', request: ChatRequest, context: PipelineContext): ChatOutcome {
  mark(cache, context, outcome);
  const record = context.record;
  record.provider = 'cache';
  record.model = entry.model ?? request.model;
  if (entry.modelLabel) record.modelLabel = entry.modelLabel;
  context.responseHeaders.age = String(Math.max(0, Math.floor((cache.now() - entry.createdAt) / 1000)));
  if (outcome === 'semantic-hit' && record.cacheSimilarity !== undefined) context.responseHeaders['x-breakwater-cache-similarity'] = String(record.cacheSimilarity);
  const completion = cache.completionOf(entry);
  if (request.stream === true) return { kind: 'stream', stream: replay(completion) };
  // As a replayed stream's usage chunk does: the tokens this answer stands for, counted under provider `cache`.
  if (completion.usage) {
    record.promptTokens = completion.usage.prompt_tokens;
    record.completionTokens = completion.usage.completion_tokens;
  }
  return { kind: 'json', result: { completion, raw: entry.raw } };
}

async function* replay(completion: Parameters<typeof replayCompletion>[0]): AsyncGenerator<StreamChunk> {
  yield* replayCompletion(completion);
}

function mark(cache: ResponseCache, context: PipelineContext, outcome: CacheOutcome): void {
  context.responseHeaders['x-breakwater-cache'] = outcome;
  context.record.cache = outcome;
  if (context.record.cacheLookupStartedAt !== undefined) recordStep(context.record, 'cache lookup', context.record.cacheLookupStartedAt, outcome);
  publishCacheEvent({ gatewayId: cache.gatewayId, type: 'lookup', outcome });
}

function round(similarity: number): number {
  return Math.round(similarity * 10_000) / 10_000;
}
