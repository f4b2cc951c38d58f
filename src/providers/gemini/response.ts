// Gemini GenerateContentResponse → canonical chat.completion: text and function calls, finish reasons, usage,
// and blocked prompts (promptFeedback.blockReason) → a content-policy error.
import { randomBytes } from 'node:crypto';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletion, ChatMessage, FinishReason, ToolCall, Usage } from '../../core/types.js';
import type { GeminiCandidate, GeminiPart, GeminiResponse, GeminiUsageMetadata } from './wire-types.js';

const contentFilterReasons = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'LANGUAGE']);

/** Gemini finishReason → OpenAI finish_reason; a STOP that ended in function calls is `tool_calls`, as OpenAI reports it. */
export function finishReasonFor(reason: string | undefined, calledTools: boolean): FinishReason | null {
  if (reason === undefined) return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (contentFilterReasons.has(reason)) return 'content_filter';
  return calledTools ? 'tool_calls' : 'stop';
}

export function usageFrom(metadata: GeminiUsageMetadata | undefined): Usage {
  const prompt = metadata?.promptTokenCount ?? 0;
  // Thinking tokens are billed as output, so they count as completion tokens (and are shown as reasoning tokens).
  const thoughts = metadata?.thoughtsTokenCount ?? 0;
  const completion = (metadata?.candidatesTokenCount ?? 0) + thoughts;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: metadata?.totalTokenCount ?? prompt + completion };
  if (metadata?.cachedContentTokenCount !== undefined) usage.prompt_tokens_details = { cached_tokens: metadata.cachedContentTokenCount };
  if (thoughts > 0) usage.completion_tokens_details = { reasoning_tokens: thoughts };
  return usage;
}

/** Gemini's function calls carry no id (outside the Live API); OpenAI clients need one to answer them. */
export function toolCallId(given: string | undefined): string {
  return given ?? `call_${randomBytes(12).toString('hex')}`;
}

export function isGeminiResponse(value: unknown): value is GeminiResponse {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const candidate = value as { candidates?: unknown; promptFeedback?: unknown };
  return Array.isArray(candidate.candidates) || (typeof candidate.promptFeedback === 'object' && candidate.promptFeedback !== null);
}

/** A blocked prompt produces no candidates: there is nothing to answer, and sending it again will not help. */
export function promptBlockedError(provider: string, response: GeminiResponse): GatewayError | undefined {
  const reason = response.promptFeedback?.blockReason;
  if (reason === undefined || (response.candidates?.length ?? 0) > 0) return undefined;
  const detail = response.promptFeedback?.blockReasonMessage ? `: ${response.promptFeedback.blockReasonMessage}` : '';
  return new GatewayError('BW_ERR_CONTENT_POLICY', `upstream ${provider} blocked the prompt (${reason})${detail}`, {
    provider,
    upstreamStatus: 200,
    upstreamKind: 'rejected',
    publicCode: 'content_policy_violation',
  });
}

/** The answer's parts: thought summaries are skipped, text is joined, function calls become tool calls. */
export function readParts(parts: readonly GeminiPart[] | undefined): { text: string; toolCalls: ToolCall[] } {
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const part of parts ?? []) {
    if (part.thought === true) continue;
    if (typeof part.text === 'string') text += part.text;
    if (part.functionCall !== undefined) {
      toolCalls.push({ id: toolCallId(part.functionCall.id), type: 'function', function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) } });
    }
  }
  return { text, toolCalls };
}

function choice(candidate: GeminiCandidate, position: number): ChatCompletion['choices'][number] {
  const { text, toolCalls } = readParts(candidate.content?.parts);
  const message: ChatMessage = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return { index: candidate.index ?? position, message, finish_reason: finishReasonFor(candidate.finishReason, toolCalls.length > 0) ?? 'stop', logprobs: null };
}

export function completionFromGemini(provider: string, response: GeminiResponse, upstreamModel: string, created: number = Math.floor(Date.now() / 1000)): ChatCompletion {
  const blocked = promptBlockedError(provider, response);
  if (blocked) throw blocked;
  const candidates = response.candidates ?? [];
  if (candidates.length === 0) {
    throw new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${provider} answered without candidates`, { upstreamKind: 'bad_response', provider });
  }
  return {
    id: response.responseId ? `chatcmpl-${response.responseId}` : `chatcmpl-${randomBytes(12).toString('hex')}`,
    object: 'chat.completion',
    created,
    model: response.modelVersion ?? upstreamModel,
    choices: candidates.map(choice),
    usage: usageFrom(response.usageMetadata),
  };
}
