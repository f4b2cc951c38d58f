// The worst case of a request, computed once per request and shared by the steps that reserve against it:
// prompt tokens (tokenizer), output cap (max_tokens or the configured default), and the cost of both.
import type { ChatRequest, EmbeddingsRequest } from '../core/types.js';
import type { PipelineContext } from '../pipeline/context.js';
import { maxCostEstimate, type PriceSource } from './prices.js';
import { estimateChatPromptTokens, estimateEmbeddingsTokens, maxCompletionTokens } from './tokenizer.js';

export interface RequestEstimate {
  readonly promptTokens: number;
  readonly maxOutputTokens: number;
  /** promptTokens + maxOutputTokens: what token limits and budgets reserve. */
  readonly tokens: number;
  readonly costUsd: number;
}

const estimates = new WeakMap<PipelineContext, RequestEstimate>();

/**
 * Computed on first read: with no token limit, budget or per-request cap configured, and usage reported by the
 * upstream, nothing reads the prompt count and the tokenizer never runs (nor loads: ~55 MB).
 */
class LazyChatEstimate implements RequestEstimate {
  readonly maxOutputTokens: number;
  private prompt: number | undefined;
  private cost: number | undefined;

  constructor(
    private readonly request: ChatRequest,
    private readonly prices: PriceSource,
    defaultMaxTokens: number,
  ) {
    this.maxOutputTokens = maxCompletionTokens(request, defaultMaxTokens);
  }

  get promptTokens(): number {
    this.prompt ??= estimateChatPromptTokens(this.request);
    return this.prompt;
  }

  get tokens(): number {
    return this.promptTokens + this.maxOutputTokens;
  }

  get costUsd(): number {
    this.cost ??= maxCostEstimate(this.prices.priceOf(this.request.model), this.promptTokens, this.maxOutputTokens);
    return this.cost;
  }
}

export function estimateChat(context: PipelineContext, request: ChatRequest, prices: PriceSource, defaultMaxTokens: number): RequestEstimate {
  let estimate = estimates.get(context);
  if (!estimate) {
    estimate = new LazyChatEstimate(request, prices, defaultMaxTokens);
    estimates.set(context, estimate);
  }
  return estimate;
}

export function estimateEmbeddings(context: PipelineContext, request: EmbeddingsRequest, prices: PriceSource): RequestEstimate {
  let estimate = estimates.get(context);
  if (!estimate) {
    const promptTokens = estimateEmbeddingsTokens(request);
    estimate = { promptTokens, maxOutputTokens: 0, tokens: promptTokens, costUsd: maxCostEstimate(prices.priceOf(request.model), promptTokens, 0) };
    estimates.set(context, estimate);
  }
  return estimate;
}
