// The simulator's Anthropic Messages wire format: a /v1/messages body → the canonical request the planner reads,
// a plan → a Message JSON or its SSE events, and errors in Anthropic's `{type:"error",error:{type,message}}` shape.

import type { ChatMessage, ChatRequest, ContentPart, ToolCall } from '../../core/types.js';
import type { ChatPlan } from '../chat-generation.js';
import { StreamBuilder, type RenderedStream, type ResponseIdentity } from '../chat-render.js';
import { SimRequestError } from '../error-envelope.js';
import { vocabulary } from '../vocabulary.js';
import { isRecord, overLimitPromptTokens } from './wire-common.js';

/** Anthropic's error `type` for an HTTP status (what its SDK branches on). */
export function anthropicErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

export function anthropicErrorBody(status: number, message: string, code: string | null): string {
  // Anthropic has no error codes; a context overflow is recognised by its message, as clients do.
  const text = code === 'context_length_exceeded' ? `prompt is too long: ${overLimitPromptTokens} tokens > 200000 maximum` : message;
  return JSON.stringify({ type: 'error', error: { type: anthropicErrorType(status), message: text } });
}

function invalid(message: string): SimRequestError {
  return new SimRequestError(400, message, { type: 'invalid_request_error' });
}

function textOf(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid(`${field}: Input should be a valid string`);
  return value;
}

function imagePart(block: Record<string, unknown>, field: string): ContentPart {
  const source = block.source;
  if (isRecord(source) && source.type === 'base64' && typeof source.media_type === 'string' && typeof source.data === 'string') {
    return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  }
  if (isRecord(source) && source.type === 'url' && typeof source.url === 'string') return { type: 'image_url', image_url: { url: source.url } };
  throw invalid(`${field}.source: expected a base64 or url image source`);
}

function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block: unknown) => (isRecord(block) && typeof block.text === 'string' ? block.text : ''))
    .filter((text) => text !== '')
    .join(' ');
}

/** One Anthropic message → canonical messages (tool results become `tool` messages, as OpenAI has them). */
function canonicalMessages(message: unknown, index: number): ChatMessage[] {
  const field = `messages.${index}`;
  if (!isRecord(message)) throw invalid(`${field}: Input should be a valid dictionary`);
  const role = message.role;
  if (role !== 'user' && role !== 'assistant') throw invalid(`${field}.role: Input should be 'user' or 'assistant'`);
  if (typeof message.content === 'string') return [{ role, content: message.content }];
  if (!Array.isArray(message.content)) throw invalid(`${field}.content: Input should be a valid string or list`);
  const parts: ContentPart[] = [];
  const toolCalls: ToolCall[] = [];
  const toolResults: ChatMessage[] = [];
  message.content.forEach((block: unknown, blockIndex: number) => {
    const at = `${field}.content.${blockIndex}`;
    if (!isRecord(block)) throw invalid(`${at}: Input should be a valid dictionary`);
    if (block.type === 'text') parts.push({ type: 'text', text: textOf(block.text, `${at}.text`) });
    else if (block.type === 'image' && role === 'user') parts.push(imagePart(block, at));
    else if (block.type === 'tool_use' && role === 'assistant') {
      toolCalls.push({ id: textOf(block.id, `${at}.id`), type: 'function', function: { name: textOf(block.name, `${at}.name`), arguments: JSON.stringify(block.input ?? {}) } });
    } else if (block.type === 'tool_result' && role === 'user') {
      toolResults.push({ role: 'tool', tool_call_id: textOf(block.tool_use_id, `${at}.tool_use_id`), content: toolResultText(block.content) });
    } else throw invalid(`${at}.type: unsupported content block type ${JSON.stringify(block.type)} in a ${role} message`);
  });
  const messages: ChatMessage[] = [...toolResults];
  if (parts.length > 0 || toolCalls.length > 0) {
    const canonical: ChatMessage = { role, content: parts.length === 1 && parts[0]?.type === 'text' ? (parts[0].text ?? '') : parts };
    if (toolCalls.length > 0) canonical.tool_calls = toolCalls;
    messages.push(canonical);
  }
  return messages;
}

function systemMessage(system: unknown): ChatMessage[] {
  if (system === undefined || system === null) return [];
  if (typeof system === 'string') return [{ role: 'system', content: system }];
  if (!Array.isArray(system)) throw invalid('system: Input should be a valid string or list');
  const text = system.map((block: unknown, index: number) => textOf(isRecord(block) ? block.text : undefined, `system.${index}.text`)).join('\n');
  return [{ role: 'system', content: text }];
}

function canonicalTools(tools: unknown): unknown[] | undefined {
  if (tools === undefined) return undefined;
  if (!Array.isArray(tools)) throw invalid('tools: Input should be a valid list');
  return tools.map((tool: unknown, index: number) => {
    if (!isRecord(tool) || typeof tool.name !== 'string') throw invalid(`tools.${index}.name: Field required`);
    if (!isRecord(tool.input_schema)) throw invalid(`tools.${index}.input_schema: Field required`);
    return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.input_schema } };
  });
}

/** Validates a Messages API body as Anthropic does (max_tokens is required there) and returns the canonical request. */
export function anthropicChatRequest(body: unknown): ChatRequest {
  if (!isRecord(body)) throw invalid('The request body must be a JSON object.');
  if (typeof body.model !== 'string' || body.model === '') throw invalid('model: Field required');
  const maxTokens = body.max_tokens;
  if (maxTokens === undefined) throw invalid('max_tokens: Field required');
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) throw invalid('max_tokens: Input should be a positive integer');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid('messages: at least one message is required');
  const messages = [...systemMessage(body.system), ...body.messages.flatMap((message: unknown, index: number) => canonicalMessages(message, index))];
  const request: ChatRequest = { model: body.model, messages, max_tokens: maxTokens, stream: body.stream === true };
  const tools = canonicalTools(body.tools);
  if (tools !== undefined) request.tools = tools;
  if (Array.isArray(body.stop_sequences)) request.stop = body.stop_sequences.filter((item): item is string => typeof item === 'string');
  return request;
}

function stopReason(plan: ChatPlan): string {
  if (plan.finishReason === 'length') return 'max_tokens';
  if (plan.finishReason === 'tool_calls') return 'tool_use';
  if (plan.finishReason === 'content_filter') return 'refusal';
  return plan.stopSequence !== null ? 'stop_sequence' : 'end_turn';
}

function messageId(identity: ResponseIdentity): string {
  return identity.id.replace('chatcmpl-sim-', 'msg_sim_');
}

function usage(plan: ChatPlan, outputTokens: number): Record<string, number> {
  return { input_tokens: plan.usage.prompt_tokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: outputTokens };
}

export function renderAnthropicMessage(plan: ChatPlan, identity: ResponseIdentity): string {
  const content: unknown[] = [];
  if (plan.content !== null && plan.content !== '') content.push({ type: 'text', text: plan.content });
  for (const call of plan.toolCalls) content.push({ type: 'tool_use', id: call.id.replace('call_sim_', 'toolu_sim_'), name: call.name, input: JSON.parse(call.arguments) as unknown });
  return JSON.stringify({
    id: messageId(identity),
    type: 'message',
    role: 'assistant',
    model: identity.model,
    content,
    stop_reason: stopReason(plan),
    stop_sequence: plan.stopSequence,
    usage: usage(plan, plan.usage.completion_tokens),
  });
}

function event(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The documented event order: message_start, per block start/deltas/stop (a ping after the first start), message_delta, message_stop. */
export function renderAnthropicStream(plan: ChatPlan, identity: ResponseIdentity): RenderedStream {
  const stream = new StreamBuilder();
  const message = { id: messageId(identity), type: 'message', role: 'assistant', model: identity.model, content: [], stop_reason: null, stop_sequence: null, usage: usage(plan, 1) };
  stream.push(event('message_start', { type: 'message_start', message }));
  let blockIndex = 0;
  if (plan.wordIndices.length > 0 || plan.tailText !== '') {
    stream.push(event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
    stream.push(event('ping', { type: 'ping' }));
    plan.wordIndices.forEach((wordIndex, position) => {
      const text = `${position === 0 ? '' : ' '}${vocabulary[wordIndex] ?? ''}`;
      stream.push(event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }), true);
    });
    if (plan.tailText !== '') stream.push(event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: plan.tailText } }), true);
    stream.push(event('content_block_stop', { type: 'content_block_stop', index: 0 }));
    blockIndex = 1;
  }
  for (const call of plan.toolCalls) {
    const index = blockIndex++;
    const block = { type: 'tool_use', id: call.id.replace('call_sim_', 'toolu_sim_'), name: call.name, input: {} };
    stream.push(event('content_block_start', { type: 'content_block_start', index, content_block: block }));
    for (const piece of call.argumentPieces) {
      stream.push(event('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } }), true);
    }
    stream.push(event('content_block_stop', { type: 'content_block_stop', index }));
  }
  stream.push(event('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason(plan), stop_sequence: plan.stopSequence }, usage: { output_tokens: plan.usage.completion_tokens } }));
  stream.push(event('message_stop', { type: 'message_stop' }));
  return stream.build();
}
