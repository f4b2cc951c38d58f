// Bedrock Converse response → canonical chat completion (text, tool calls, stop reason, usage).
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletion, FinishReason, ToolCall, Usage } from '../../core/types.js';
import type { ConverseResponse, ConverseUsage } from './wire-types.js';

const finishReasons: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  content_filtered: 'content_filter',
  guardrail_intervened: 'content_filter',
};

/** Unknown future stop reasons read as a normal stop rather than failing the response. */
export function finishReasonOf(stopReason: string | undefined): FinishReason {
  return (stopReason !== undefined ? finishReasons[stopReason] : undefined) ?? 'stop';
}

/** Converse counts cache reads and writes apart from `inputTokens`; OpenAI's prompt_tokens includes them (writes as `cache_creation_tokens`, as the Anthropic adapter does). */
export function usageOf(usage: ConverseUsage): Usage {
  const cacheRead = usage.cacheReadInputTokens ?? 0;
  const cacheWrite = usage.cacheWriteInputTokens ?? 0;
  const prompt = usage.inputTokens + cacheRead + cacheWrite;
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.outputTokens,
    total_tokens: prompt + usage.outputTokens,
    ...(cacheRead > 0 || cacheWrite > 0 ? { prompt_tokens_details: { cached_tokens: cacheRead, cache_creation_tokens: cacheWrite } } : {}),
  };
}

export function completionId(requestId: string | undefined): string {
  return `chatcmpl-${requestId ?? randomUUID()}`;
}

export function isConverseResponse(value: unknown): value is ConverseResponse {
  return typeof value === 'object' && value !== null && typeof (value as { output?: unknown }).output === 'object' && (value as { output?: unknown }).output !== null;
}

export function toChatCompletion(provider: string, response: ConverseResponse, model: string, requestId: string | undefined): ChatCompletion {
  const blocks = response.output.message?.content ?? [];
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const block of blocks) {
    if (typeof block.text === 'string') text += block.text;
    const toolUse = block.toolUse as { toolUseId?: unknown; name?: unknown; input?: unknown } | undefined;
    if (toolUse) {
      if (typeof toolUse.toolUseId !== 'string' || typeof toolUse.name !== 'string') {
        throw new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${provider} sent a toolUse block without id or name`, { upstreamKind: 'bad_response', provider });
      }
      toolCalls.push({ id: toolUse.toolUseId, type: 'function', function: { name: toolUse.name, arguments: JSON.stringify(toolUse.input ?? {}) } });
    }
  }
  const completion: ChatCompletion = {
    id: completionId(requestId),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text.length > 0 || toolCalls.length === 0 ? text : null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
        finish_reason: finishReasonOf(response.stopReason),
        logprobs: null,
      },
    ],
  };
  if (response.usage) completion.usage = usageOf(response.usage);
  return completion;
}
