// Anthropic Message → canonical chat.completion: text and tool calls, stop reasons, and usage with cache tokens.
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletion, ChatMessage, FinishReason, ToolCall, Usage } from '../../core/types.js';
import type { AnthropicResponse, AnthropicUsage } from './wire-types.js';

/** Anthropic stop_reason → OpenAI finish_reason. */
export function finishReasonFor(stopReason: string | null | undefined): FinishReason | null {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    case null:
    case undefined:
      return null;
    default:
      return 'stop';
  }
}

/**
 * Anthropic counts cached prompt tokens apart from `input_tokens`; OpenAI's prompt_tokens includes them.
 * So prompt_tokens = input + cache reads + cache writes, with the reads as `cached_tokens` (OpenAI's field)
 * and the writes as `cache_creation_tokens` (priced higher, so accounting needs them apart).
 */
export function usageFrom(usage: AnthropicUsage): Usage {
  const input = usage.input_tokens ?? 0;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const prompt = input + cacheRead + cacheWrite;
  const completion = usage.output_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead, cache_creation_tokens: cacheWrite },
  };
}

export function isAnthropicResponse(value: unknown): value is AnthropicResponse {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { type?: unknown; content?: unknown; usage?: unknown };
  return candidate.type === 'message' && Array.isArray(candidate.content) && typeof candidate.usage === 'object' && candidate.usage !== null;
}

export function completionFromAnthropic(provider: string, response: AnthropicResponse, created: number = Math.floor(Date.now() / 1000)): ChatCompletion {
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const block of response.content) {
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    else if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') {
        throw new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${provider} sent a tool_use block without id or name`, { upstreamKind: 'bad_response', provider });
      }
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    }
    // thinking, redacted_thinking and server-tool blocks have no place in a chat.completion message.
  }
  const message: ChatMessage = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: response.id,
    object: 'chat.completion',
    created,
    model: response.model,
    choices: [{ index: 0, message, finish_reason: finishReasonFor(response.stop_reason), logprobs: null }],
    usage: usageFrom(response.usage),
  };
}
