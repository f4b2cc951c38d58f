// The rate-limit and budget steps of the request path (chat and embeddings): admit or refuse before the call,
// settle with what the call really consumed after it (streams included, when they end or the client leaves).
import { consumedTokens, withConsumption } from '../accounting/consumption.js';
import { costOfUsage, type PriceSource } from '../accounting/prices.js';
import { estimateChat, estimateEmbeddings } from '../accounting/request-estimate.js';
import { identifyUser } from '../accounting/request-identity.js';
import { recordStep, stepStart } from '../observability/events.js';
import type { ChatStep, EmbeddingsStep, PipelineContext } from '../pipeline/context.js';
import type { BudgetPolicy } from './budget-policy.js';
import type { RateLimitPolicy } from './rate-limit-policy.js';

export function rateLimitChatStep(policy: RateLimitPolicy, prices: PriceSource, defaultMaxTokens: number): ChatStep {
  return async (request, context, next) => {
    identifyUser(context, request.user);
    const estimate = estimateChat(context, request, prices, defaultMaxTokens);
    const admission = await timed(context, 'rate limit', stepStart(context.record), policy.admit(context, request.model, estimate));
    return withConsumption(
      context,
      () => next(request),
      (consumption) => {
        const used = consumedTokens(consumption, estimate);
        void admission.settle(used.prompt + used.completion);
      },
    );
  };
}

export function budgetChatStep(policy: BudgetPolicy, prices: PriceSource, defaultMaxTokens: number): ChatStep {
  return async (request, context, next) => {
    identifyUser(context, request.user);
    const estimate = estimateChat(context, request, prices, defaultMaxTokens);
    const reservation = await timed(context, 'budget', stepStart(context.record), policy.reserve(context, estimate));
    return withConsumption(
      context,
      () => next(request),
      (consumption) => {
        const used = consumedTokens(consumption, estimate);
        const costUsd = costOfUsage(priceFor(prices, context, request.model), { prompt_tokens: used.prompt, completion_tokens: used.completion, prompt_tokens_details: { cached_tokens: used.cached } });
        void reservation.settle({ costUsd, tokens: used.prompt + used.completion });
      },
    );
  };
}

export function rateLimitEmbeddingsStep(policy: RateLimitPolicy, prices: PriceSource): EmbeddingsStep {
  return async (request, context, next) => {
    identifyUser(context, request.user);
    const estimate = estimateEmbeddings(context, request, prices);
    const admission = await timed(context, 'rate limit', stepStart(context.record), policy.admit(context, request.model, estimate));
    let used = 0;
    try {
      const result = await next(request);
      used = result.response.usage?.prompt_tokens ?? estimate.tokens;
      return result;
    } finally {
      void admission.settle(used);
    }
  };
}

export function budgetEmbeddingsStep(policy: BudgetPolicy, prices: PriceSource): EmbeddingsStep {
  return async (request, context, next) => {
    identifyUser(context, request.user);
    const estimate = estimateEmbeddings(context, request, prices);
    const reservation = await timed(context, 'budget', stepStart(context.record), policy.reserve(context, estimate));
    let tokens = 0;
    try {
      const result = await next(request);
      tokens = result.response.usage?.prompt_tokens ?? estimate.tokens;
      return result;
    } finally {
      const costUsd = costOfUsage(priceFor(prices, context, request.model), { prompt_tokens: tokens, completion_tokens: 0 });
      void reservation.settle({ costUsd, tokens });
    }
  };
}

/** The price of the deployment that really served the request (a fallback may differ from the one asked for). */
export function priceFor(prices: PriceSource, context: PipelineContext, requestedModel: string) {
  const { upstreamModel, model } = context.record;
  return (upstreamModel ? prices.priceOf(upstreamModel) : undefined) ?? (model ? prices.priceOf(model) : undefined) ?? prices.priceOf(requestedModel);
}

/**
 * A step's admission, its timing and outcome kept for the trace when tracing asked for it (`startedAt` from
 * stepStart(), taken before the admission began: arguments are evaluated in order). Untimed requests get the
 * admission back as it is: no closure, no extra promise.
 */
function timed<T>(context: PipelineContext, name: 'rate limit' | 'budget', startedAt: number, admission: Promise<T>): Promise<T> {
  if (startedAt === 0) return admission;
  return admission.then(
    (admitted) => {
      recordStep(context.record, name, startedAt, 'admitted');
      return admitted;
    },
    (error: unknown) => {
      recordStep(context.record, name, startedAt, (error as { code?: string } | null)?.code ?? 'error');
      throw error;
    },
  );
}
