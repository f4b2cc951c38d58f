// The worst case of a request, computed once per request and shared by the steps that reserve against it:
// prompt tokens (tokenizer), output cap (max_tokens or the configured default), and the cost of both.
import type { ChatRequest, EmbeddingsRequest } from '../core/types.js';
import type { PipelineContext } from '../pipeline/context.js';
import { maxCostEstimate, type PriceSource } from './prices.js';
import { estimateChatPromptTokens, estimateEmbeddingsTokens, maxCompletionTokens } from './tokenizer.js';

export interface RequestEstimate {
  promptTokens: number;
  maxOutputTokens: number;
  /** promptTokens + maxOutputTokens: what token limits and budgets reserve. */
  tokens: number;
  costUsd: number;
}

const estimates = new WeakMap<PipelineContext, RequestEstimate>();

export function estimateChat(context: PipelineContext, request: ChatRequest, prices: PriceSource, defaultMaxTokens: number): RequestEstimate {
  let estimate = estimates.get(context);
  if (!estimate) {
    const promptTokens = estimateChatPromptTokens(request);
    const maxOutputTokens = maxCompletionTokens(request, defaultMaxTokens);
    estimate = { promptTokens, maxOutputTokens, tokens: promptTokens + maxOutputTokens, costUsd: maxCostEstimate(prices.priceOf(request.model), promptTokens, maxOutputTokens) };
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
