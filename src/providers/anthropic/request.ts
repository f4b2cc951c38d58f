// Canonical (OpenAI chat) request → Anthropic Messages API body: system prompt on top, alternating roles,
// images, tools and tool_choice, tool calls as tool_use blocks and tool results as tool_result blocks.
import { GatewayError } from '../../core/errors.js';
import type { ChatMessage, ChatRequest, ContentPart } from '../../core/types.js';
import type {
  AnthropicContentBlock,
  AnthropicMessage,
  AnthropicRequest,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolChoice,
} from './wire-types.js';

/** Anthropic requires max_tokens; this is used when the client sends neither max_tokens nor max_completion_tokens. */
export const defaultAnthropicMaxTokens = 4096;

export interface AnthropicRequestOptions {
  upstreamModel: string;
  stream: boolean;
  defaultMaxTokens: number;
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('BW_ERR_INVALID_REQUEST', message, { param });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const dataUrlPattern = /^data:([^;,]+);base64,(.*)$/s;

function imageBlock(part: ContentPart, param: string): AnthropicContentBlock {
  const url = part.image_url?.url;
  if (typeof url !== 'string' || url === '') throw invalid(`${param}.image_url.url`, 'an image part needs image_url.url');
  const data = dataUrlPattern.exec(url);
  if (data) return { type: 'image', source: { type: 'base64', media_type: data[1] ?? '', data: data[2] ?? '' } };
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalid(`${param}.image_url.url`, 'Anthropic accepts images as base64 data: URLs or http(s) URLs');
}

function textBlocks(content: ChatMessage['content'], param: string, allowImages: boolean): AnthropicContentBlock[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  return content.flatMap((part, index): AnthropicContentBlock[] => {
    const at = `${param}[${index}]`;
    if (part.type === 'text') {
      // Anthropic rejects empty text blocks; an empty part carries nothing anyway. cache_control is kept for prompt caching.
      if (typeof part.text !== 'string' || part.text === '') return [];
      return [part.cache_control === undefined ? { type: 'text', text: part.text } : { type: 'text', text: part.text, cache_control: part.cache_control }];
    }
    if (part.type === 'image_url' && allowImages) return [imageBlock(part, at)];
    throw invalid(`${at}.type`, `content part type "${part.type}" is not supported by Anthropic in this message`);
  });
}

function plainText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
}

function systemPrompt(messages: readonly ChatMessage[]): AnthropicRequest['system'] {
  const system = messages.filter((message) => message.role === 'system' || message.role === 'developer');
  if (system.length === 0) return undefined;
  // One plain string stays a string (the common case, and the shape Anthropic's own examples use).
  if (system.length === 1 && typeof system[0]?.content === 'string') return system[0].content;
  const blocks: AnthropicTextBlock[] = [];
  system.forEach((message) => {
    for (const block of textBlocks(message.content, 'messages.content', false)) if (block.type === 'text') blocks.push(block);
  });
  return blocks;
}

function toolUseInput(argumentsText: string, param: string): unknown {
  if (argumentsText.trim() === '') return {};
  try {
    return JSON.parse(argumentsText) as unknown;
  } catch {
    throw invalid(param, 'tool call arguments must be valid JSON to be sent to Anthropic');
  }
}

/** One canonical message → one Anthropic turn (before merging): assistant tool calls and tool results become blocks. */
function anthropicTurn(message: ChatMessage, index: number): AnthropicMessage | undefined {
  const param = `messages[${index}]`;
  if (message.role === 'tool') {
    if (typeof message.tool_call_id !== 'string') throw invalid(`${param}.tool_call_id`, 'a tool message needs tool_call_id');
    return { role: 'user', content: [{ type: 'tool_result', tool_use_id: message.tool_call_id, content: plainText(message.content) }] };
  }
  if (message.role === 'assistant') {
    const blocks = textBlocks(message.content, `${param}.content`, false);
    (message.tool_calls ?? []).forEach((call, callIndex) => {
      blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input: toolUseInput(call.function.arguments, `${param}.tool_calls[${callIndex}].function.arguments`) });
    });
    return blocks.length === 0 ? undefined : { role: 'assistant', content: blocks };
  }
  if (typeof message.content === 'string') return { role: 'user', content: message.content };
  return { role: 'user', content: textBlocks(message.content, `${param}.content`, true) };
}

function asBlocks(content: AnthropicMessage['content']): AnthropicContentBlock[] {
  return typeof content === 'string' ? (content === '' ? [] : [{ type: 'text', text: content }]) : content;
}

/** Anthropic wants user and assistant turns to alternate: consecutive turns of one role are merged into one. */
function alternatingTurns(messages: readonly ChatMessage[]): AnthropicMessage[] {
  const turns: AnthropicMessage[] = [];
  messages.forEach((message, index) => {
    if (message.role === 'system' || message.role === 'developer') return;
    const turn = anthropicTurn(message, index);
    if (turn === undefined) return;
    const previous = turns.at(-1);
    if (previous !== undefined && previous.role === turn.role) {
      // Tool results go first in a user turn, as Anthropic requires them before any text.
      const merged = [...asBlocks(previous.content), ...asBlocks(turn.content)];
      merged.sort((left, right) => Number(right.type === 'tool_result') - Number(left.type === 'tool_result'));
      previous.content = merged;
    } else turns.push(turn);
  });
  return turns;
}

function tools(request: ChatRequest): AnthropicTool[] | undefined {
  if (!Array.isArray(request.tools) || request.tools.length === 0) return undefined;
  return request.tools.map((tool, index) => {
    const spec = isRecord(tool) && tool.type === 'function' && isRecord(tool.function) ? tool.function : undefined;
    if (spec === undefined || typeof spec.name !== 'string') throw invalid(`tools[${index}]`, 'only function tools can be sent to Anthropic');
    const converted: AnthropicTool = { name: spec.name, input_schema: isRecord(spec.parameters) ? spec.parameters : { type: 'object', properties: {} } };
    if (typeof spec.description === 'string') converted.description = spec.description;
    return converted;
  });
}

function toolChoice(request: ChatRequest, hasTools: boolean): AnthropicToolChoice | undefined {
  const choice = request.tool_choice;
  const noParallel = request.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (!hasTools) return undefined;
  if (choice === undefined || choice === null || choice === 'auto') return request.parallel_tool_calls === false ? { type: 'auto', ...noParallel } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any', ...noParallel };
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string') return { type: 'tool', name: choice.function.name, ...noParallel };
  throw invalid('tool_choice', 'tool_choice must be "auto", "none", "required" or a named function');
}

export function anthropicRequestBody(request: ChatRequest, options: AnthropicRequestOptions): AnthropicRequest {
  if (typeof request.n === 'number' && request.n > 1) throw invalid('n', 'Anthropic returns one choice per request (n must be 1)');
  const body: AnthropicRequest = {
    model: options.upstreamModel,
    messages: alternatingTurns(request.messages),
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? options.defaultMaxTokens,
  };
  const system = systemPrompt(request.messages);
  if (system !== undefined) body.system = system;
  if (typeof request.stop === 'string') body.stop_sequences = [request.stop];
  else if (Array.isArray(request.stop) && request.stop.length > 0) body.stop_sequences = request.stop;
  if (typeof request.temperature === 'number') body.temperature = request.temperature;
  if (typeof request.top_p === 'number') body.top_p = request.top_p;
  const converted = tools(request);
  if (converted !== undefined) body.tools = converted;
  const choice = toolChoice(request, converted !== undefined);
  if (choice !== undefined) body.tool_choice = choice;
  if (typeof request.user === 'string' && request.user !== '') body.metadata = { user_id: request.user };
  if (options.stream) body.stream = true;
  return body;
}
