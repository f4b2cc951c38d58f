// Canonical chat completion → Anthropic `message` object (content blocks, stop reason, usage).
import { randomBytes } from 'node:crypto';
import type { ChatCompletion, FinishReason, Usage } from '../../core/types.js';
import type { AnthropicRequestFacts } from './request.js';
import type { AnthropicMessage, AnthropicResponseBlock, AnthropicStopReason, AnthropicUsage } from './wire-types.js';

export function messageId(): string {
  return `msg_${randomBytes(12).toString('hex')}`;
}

/**
 * OpenAI says `stop` both for a natural end and a matched stop sequence. Servers that report which sequence matched
 * (vLLM's `stop_reason`, or an adapter's `stop_sequence`) let us say `stop_sequence` exactly; otherwise it is `end_turn`.
 */
export function stopReasonOf(finishReason: FinishReason | null | undefined, matched: string | null): AnthropicStopReason {
  switch (finishReason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return matched !== null ? 'stop_sequence' : 'end_turn';
  }
}

/** The stop sequence a choice reports having matched, if it is one the request asked for. */
export function matchedStopSequence(choice: Record<string, unknown> | undefined, facts: AnthropicRequestFacts): string | null {
  if (!choice) return null;
  const reported = typeof choice.stop_sequence === 'string' ? choice.stop_sequence : typeof choice.stop_reason === 'string' ? choice.stop_reason : undefined;
  return reported !== undefined && facts.stopSequences.includes(reported) ? reported : null;
}

/** Anthropic counts cache reads and writes apart from input tokens; OpenAI's prompt_tokens includes them (writes as `cache_creation_tokens`). */
export function usageOf(usage: Usage | null | undefined): AnthropicUsage {
  if (!usage) return { input_tokens: 0, output_tokens: 0 };
  const details = usage.prompt_tokens_details ?? {};
  const cacheRead = typeof details.cached_tokens === 'number' ? details.cached_tokens : 0;
  const cacheWrite = typeof details.cache_creation_tokens === 'number' ? details.cache_creation_tokens : 0;
  const result: AnthropicUsage = { input_tokens: Math.max(0, usage.prompt_tokens - cacheRead - cacheWrite), output_tokens: usage.completion_tokens };
  if (cacheRead > 0) result.cache_read_input_tokens = cacheRead;
  if (cacheWrite > 0) result.cache_creation_input_tokens = cacheWrite;
  return result;
}

/** Tool arguments are a JSON text in OpenAI and an object in Anthropic; text that is not an object is kept under `_raw`. */
export function toolInput(argumentsText: string): Record<string, unknown> {
  if (argumentsText.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(argumentsText);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // kept raw below
  }
  return { _raw: argumentsText };
}

export function toAnthropicMessage(completion: ChatCompletion, facts: AnthropicRequestFacts): AnthropicMessage {
  const choice = completion.choices[0];
  const message = choice?.message;
  const content: AnthropicResponseBlock[] = [];
  const text = typeof message?.content === 'string' ? message.content : Array.isArray(message?.content) ? message.content.map((part) => part.text ?? '').join('') : '';
  if (text.length > 0) content.push({ type: 'text', text });
  for (const call of message?.tool_calls ?? []) content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: toolInput(call.function.arguments) });
  const matched = matchedStopSequence(choice as Record<string, unknown> | undefined, facts);
  return {
    id: messageId(),
    type: 'message',
    role: 'assistant',
    model: facts.model,
    content,
    stop_reason: stopReasonOf(choice?.finish_reason, matched),
    stop_sequence: matched,
    usage: usageOf(completion.usage),
  };
}
