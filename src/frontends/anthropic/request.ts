// Anthropic Messages request → canonical (OpenAI) chat request, validated with errors naming the Anthropic field.
import { GatewayError } from '../../core/errors.js';
import type { ChatMessage, ChatRequest, ContentPart, ToolCall } from '../../core/types.js';

// The canonical (OpenAI) format takes at most 4 stop sequences, so more could not reach every provider.
const maxStopSequences = 4;

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('BW_ERR_INVALID_REQUEST', `${param}: ${message}`, { param });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalNumber(body: Record<string, unknown>, name: string, minimum: number, maximum: number): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum || value > maximum) throw invalid(name, `must be a number between ${minimum} and ${maximum}`);
  return value;
}

/** What the response side needs to remember about the request (the model name to echo, stop sequences to recognise). */
export interface AnthropicRequestFacts {
  model: string;
  stopSequences: readonly string[];
}

export function translateAnthropicRequest(body: unknown): { request: ChatRequest; facts: AnthropicRequestFacts } {
  if (!isRecord(body)) throw invalid('body', 'must be a JSON object');
  const model = body.model;
  if (typeof model !== 'string' || model.length === 0 || model.length > 256) throw invalid('model', 'required: a non-empty string');
  const maxTokens = body.max_tokens;
  if (maxTokens === undefined) throw invalid('max_tokens', 'Field required');
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) throw invalid('max_tokens', 'must be a positive integer');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid('messages', 'required: a non-empty array');

  const messages: ChatMessage[] = [];
  const system = systemText(body.system);
  if (system !== undefined) messages.push({ role: 'system', content: system });
  body.messages.forEach((message, index) => messages.push(...translateMessage(message, `messages.${index}`)));

  const request: ChatRequest = { model, messages, max_tokens: maxTokens };
  const temperature = optionalNumber(body, 'temperature', 0, 1);
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(body, 'top_p', 0, 1);
  if (topP !== undefined) request.top_p = topP;
  const stopSequences = stopSequencesOf(body.stop_sequences);
  if (stopSequences.length > 0) request.stop = stopSequences;
  if (body.stream !== undefined && body.stream !== null) {
    if (typeof body.stream !== 'boolean') throw invalid('stream', 'must be a boolean');
    if (body.stream) {
      request.stream = true;
      request.stream_options = { include_usage: true };
    }
  }
  if (body.tools !== undefined && body.tools !== null) request.tools = translateTools(body.tools);
  const toolChoice = translateToolChoice(body.tool_choice);
  if (toolChoice) {
    if (toolChoice.choice !== undefined) request.tool_choice = toolChoice.choice;
    if (toolChoice.parallel === false && request.tools) request.parallel_tool_calls = false;
  }
  if (isRecord(body.metadata) && typeof body.metadata.user_id === 'string') request.user = body.metadata.user_id;
  // top_k, thinking, service_tier and container have no OpenAI equivalent: they are not forwarded.
  return { request, facts: { model, stopSequences } };
}

function systemText(system: unknown): string | undefined {
  if (system === undefined || system === null) return undefined;
  if (typeof system === 'string') return system.length > 0 ? system : undefined;
  if (!Array.isArray(system)) throw invalid('system', 'must be a string or an array of text blocks');
  const texts = system.map((block, index) => {
    if (!isRecord(block) || block.type !== 'text' || typeof block.text !== 'string') throw invalid(`system.${index}`, 'must be a text block');
    return block.text;
  });
  return texts.length > 0 ? texts.join('\n') : undefined;
}

function stopSequencesOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw invalid('stop_sequences', 'must be an array of strings');
  if (value.length > maxStopSequences) throw invalid('stop_sequences', `at most ${maxStopSequences} are accepted`);
  return value as string[];
}

function translateMessage(message: unknown, at: string): ChatMessage[] {
  if (!isRecord(message)) throw invalid(at, 'must be an object');
  const role = message.role;
  if (role !== 'user' && role !== 'assistant') throw invalid(`${at}.role`, "must be 'user' or 'assistant'");
  const content = message.content;
  if (typeof content === 'string') return [{ role, content }];
  if (!Array.isArray(content)) throw invalid(`${at}.content`, 'must be a string or an array of content blocks');
  return role === 'user' ? userMessages(content, at) : [assistantMessage(content, at)];
}

/** A user turn: tool results become `tool` messages (first, answering the previous assistant turn), the rest one user message. */
function userMessages(blocks: unknown[], at: string): ChatMessage[] {
  const toolMessages: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  blocks.forEach((block, index) => {
    const where = `${at}.content.${index}`;
    if (!isRecord(block)) throw invalid(where, 'must be a content block');
    if (block.type === 'tool_result') {
      if (typeof block.tool_use_id !== 'string') throw invalid(`${where}.tool_use_id`, 'required');
      const text = toolResultText(block.content, where);
      toolMessages.push({ role: 'tool', tool_call_id: block.tool_use_id, content: block.is_error === true ? `Error: ${text}` : text });
      return;
    }
    const part = contentPart(block, where);
    if (part) parts.push(part);
  });
  const onlyText = parts.every((part) => part.type === 'text');
  const user: ChatMessage[] = parts.length === 0 ? [] : [{ role: 'user', content: onlyText ? parts.map((part) => part.text ?? '').join('\n') : parts }];
  return [...toolMessages, ...user];
}

function assistantMessage(blocks: unknown[], at: string): ChatMessage {
  let text = '';
  const toolCalls: ToolCall[] = [];
  blocks.forEach((block, index) => {
    const where = `${at}.content.${index}`;
    if (!isRecord(block)) throw invalid(where, 'must be a content block');
    if (block.type === 'text') {
      if (typeof block.text !== 'string') throw invalid(`${where}.text`, 'required');
      text += block.text;
    } else if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') throw invalid(where, 'tool_use needs id and name');
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    } else if (block.type === 'thinking' || block.type === 'redacted_thinking') {
      // Extended-thinking blocks belong to Anthropic's own models; other providers cannot take them back.
    } else {
      throw invalid(`${where}.type`, `block type ${String(block.type)} is not supported in assistant turns`);
    }
  });
  return { role: 'assistant', content: text.length > 0 || toolCalls.length === 0 ? text : null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
}

function contentPart(block: Record<string, unknown>, at: string): ContentPart | undefined {
  if (block.type === 'text') {
    if (typeof block.text !== 'string') throw invalid(`${at}.text`, 'required');
    return { type: 'text', text: block.text };
  }
  if (block.type === 'image') return { type: 'image_url', image_url: { url: imageUrl(block.source, `${at}.source`) } };
  if (block.type === 'document' && isRecord(block.source) && block.source.type === 'text' && typeof block.source.data === 'string') {
    return { type: 'text', text: block.source.data };
  }
  throw invalid(`${at}.type`, `block type ${String(block.type)} is not supported in user turns`);
}

function imageUrl(source: unknown, at: string): string {
  if (!isRecord(source)) throw invalid(at, 'required');
  if (source.type === 'base64') {
    if (typeof source.media_type !== 'string' || typeof source.data !== 'string') throw invalid(at, 'base64 images need media_type and data');
    return `data:${source.media_type};base64,${source.data}`;
  }
  if (source.type === 'url' && typeof source.url === 'string') return source.url;
  throw invalid(`${at}.type`, "must be 'base64' or 'url'");
}

function toolResultText(content: unknown, at: string): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid(`${at}.content`, 'must be a string or an array of blocks');
  return content
    .map((block, index) => {
      if (isRecord(block) && block.type === 'text' && typeof block.text === 'string') return block.text;
      throw invalid(`${at}.content.${index}`, 'only text blocks are supported in tool results');
    })
    .join('\n');
}

function translateTools(tools: unknown): unknown[] {
  if (!Array.isArray(tools)) throw invalid('tools', 'must be an array');
  return tools.map((tool, index) => {
    if (!isRecord(tool) || typeof tool.name !== 'string') throw invalid(`tools.${index}.name`, 'required');
    if (tool.type !== undefined && tool.type !== 'custom') throw invalid(`tools.${index}.type`, `server tool ${String(tool.type)} is not supported through the gateway`);
    if (!isRecord(tool.input_schema)) throw invalid(`tools.${index}.input_schema`, 'required: a JSON schema object');
    return {
      type: 'function',
      function: { name: tool.name, ...(typeof tool.description === 'string' ? { description: tool.description } : {}), parameters: tool.input_schema },
    };
  });
}

function translateToolChoice(choice: unknown): { choice?: unknown; parallel?: boolean } | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (!isRecord(choice)) throw invalid('tool_choice', 'must be an object');
  const parallel = choice.disable_parallel_tool_use === true ? false : undefined;
  switch (choice.type) {
    case 'auto':
      return { choice: 'auto', parallel };
    case 'any':
      return { choice: 'required', parallel };
    case 'none':
      return { choice: 'none' };
    case 'tool':
      if (typeof choice.name !== 'string') throw invalid('tool_choice.name', 'required');
      return { choice: { type: 'function', function: { name: choice.name } }, parallel };
  }
  throw invalid('tool_choice.type', "must be 'auto', 'any', 'tool' or 'none'");
}
