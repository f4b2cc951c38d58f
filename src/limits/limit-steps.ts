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
    const admission = await timed(context, 'rate limit', () => policy.admit(context, request.model, estimate));
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
    const reservation = await timed(context, 'budget', () => policy.reserve(context, estimate));
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
    const admission = await timed(context, 'rate limit', () => policy.admit(context, request.model, estimate));
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
    const reservation = await timed(context, 'budget', () => policy.reserve(context, estimate));
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

/** Runs a step's admission, keeping its timing and outcome for the trace when tracing asks for it (else: as is). */
function timed<T>(context: PipelineContext, name: 'rate limit' | 'budget', admit: () => Promise<T>): Promise<T> {
  const startedAt = stepStart(context.record);
  return startedAt === 0 ? admit() : timedAdmission(context, name, startedAt, admit);
}

async function timedAdmission<T>(context: PipelineContext, name: 'rate limit' | 'budget', startedAt: number, admit: () => Promise<T>): Promise<T> {
  try {
    const admitted = await admit();
    recordStep(context.record, name, startedAt, 'admitted');
    return admitted;
  } catch (error) {
    recordStep(context.record, name, startedAt, (error as { code?: string }).code ?? 'error');
    throw error;
  }
}
