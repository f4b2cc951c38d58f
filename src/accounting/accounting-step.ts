// Cost accounting on the request path: works out each request's real cost from its usage and the price table, tells
// the client (x-breakwater-cost-usd on JSON answers), and writes one spend record per request when it ends.
import { randomUUID } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { RequestRecord } from '../observability/events.js';
import type { ChatStep, EmbeddingsStep, PipelineContext } from '../pipeline/context.js';
import { spendRecorded } from './accounting-events.js';
import { consumedTokens, withConsumption } from './consumption.js';
import type { LedgerWriter } from './ledger-writer.js';
import { costOfUsage, type PriceSource } from './prices.js';
import { estimateChat, estimateEmbeddings } from './request-estimate.js';
import { identifyUser, sessionOf } from './request-identity.js';

interface Draft {
  context: PipelineContext;
  requestedModel: string;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
}

export const costHeader = 'x-breakwater-cost-usd';

export class Accounting {
  private readonly drafts = new WeakMap<RequestRecord, Draft>();
  private readonly onEnd = (message: unknown) => {
    const record = message as RequestRecord;
    if (record.gatewayId !== this.gatewayId) return;
    const draft = this.drafts.get(record);
    if (draft) this.write(record, draft);
  };

  constructor(
    private readonly writer: LedgerWriter | undefined,
    private readonly prices: PriceSource,
    private readonly defaultMaxTokens: number,
    private readonly gatewayId: number,
    private readonly clock: () => number = Date.now,
  ) {
    subscribe('breakwater:request:end', this.onEnd);
  }

  readonly chatStep: ChatStep = async (request, context, next) => {
    identifyUser(context, request.user);
    const draft = this.open(context, request.model);
    return withConsumption(
      context,
      () => next(request),
      (consumption) => {
        const estimate = estimateChat(context, request, this.prices, this.defaultMaxTokens);
        const used = consumedTokens(consumption, estimate);
        this.close(draft, used.prompt, used.completion, used.cached);
      },
    );
  };

  readonly embeddingsStep: EmbeddingsStep = async (request, context, next) => {
    identifyUser(context, request.user);
    const draft = this.open(context, request.model);
    let tokens = 0;
    try {
      const result = await next(request);
      // An upstream that reports no usage (some OpenAI-compatible servers) is charged the gateway's count, as the
      // rate-limit and budget steps are: never $0 for work that was done.
      tokens = result.response.usage?.prompt_tokens ?? estimateEmbeddings(context, request, this.prices).tokens;
      return result;
    } finally {
      this.close(draft, tokens, 0, 0);
    }
  };

  dispose(): void {
    unsubscribe('breakwater:request:end', this.onEnd);
  }

  private open(context: PipelineContext, requestedModel: string): Draft {
    const draft: Draft = { context, requestedModel, promptTokens: 0, completionTokens: 0, cachedTokens: 0, costUsd: 0 };
    this.drafts.set(context.record, draft);
    return draft;
  }

  private close(draft: Draft, promptTokens: number, completionTokens: number, cachedTokens: number): void {
    const record = draft.context.record;
    // The deployment that served sets the price (a fallback may cost more or less than the model asked for).
    const price = (record.upstreamModel ? this.prices.priceOf(record.upstreamModel) : undefined) ?? (record.model ? this.prices.priceOf(record.model) : undefined) ?? this.prices.priceOf(draft.requestedModel);
    draft.promptTokens = promptTokens;
    draft.completionTokens = completionTokens;
    draft.cachedTokens = cachedTokens;
    // A cache hit called no upstream: it is recorded (tokens included, for reporting) but costs nothing.
    const servedFromCache = record.cache === 'hit' || record.cache === 'semantic-hit';
    draft.costUsd = servedFromCache ? 0 : costOfUsage(price, { prompt_tokens: promptTokens, completion_tokens: completionTokens, prompt_tokens_details: { cached_tokens: cachedTokens } });
    // Set before the JSON answer is sent; a stream's headers are gone by now, its cost is in the ledger.
    draft.context.responseHeaders[costHeader] = String(draft.costUsd);
  }

  private write(record: RequestRecord, draft: Draft): void {
    const principal = draft.context.principal;
    const model = record.model ?? draft.requestedModel;
    this.writer?.write({
      id: randomUUID(),
      requestId: record.requestId,
      timestamp: this.clock(),
      keyId: principal.keyId,
      user: principal.user ?? null,
      team: principal.team ?? null,
      session: sessionOf(draft.context) ?? null,
      model,
      provider: record.provider ?? null,
      route: record.route,
      promptTokens: draft.promptTokens,
      completionTokens: draft.completionTokens,
      cachedTokens: draft.cachedTokens,
      costUsd: draft.costUsd,
      latencyMs: Math.round((record.durationMs ?? 0) * 100) / 100,
      status: record.status,
      errorCode: record.errorCode ?? null,
      stream: record.stream,
    });
    if (draft.costUsd > 0 && spendRecorded.hasSubscribers) spendRecorded.publish({ gatewayId: this.gatewayId, model: record.modelLabel ?? 'other', provider: record.provider ?? 'none', costUsd: draft.costUsd });
  }
}
