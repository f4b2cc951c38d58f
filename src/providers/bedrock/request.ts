// Canonical (OpenAI) chat request → Bedrock Converse request body.
import { GatewayError } from '../../core/errors.js';
import type { ChatMessage, ChatRequest, ContentPart } from '../../core/types.js';
import type { ConverseContentBlock, ConverseMessage, ConverseRequest } from './wire-types.js';

const imageFormats = new Map<string, 'png' | 'jpeg' | 'gif' | 'webp'>([
  ['image/png', 'png'],
  ['image/jpeg', 'jpeg'],
  ['image/jpg', 'jpeg'],
  ['image/gif', 'gif'],
  ['image/webp', 'webp'],
]);

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('BW_ERR_INVALID_REQUEST', `${param}: ${message}`, { param });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function converseBody(request: ChatRequest): string {
  return JSON.stringify(converseRequest(request));
}

export function converseRequest(request: ChatRequest): ConverseRequest {
  if (typeof request.n === 'number' && request.n > 1) throw invalid('n', 'Bedrock returns one choice per request: n must be 1 (send several requests for several answers)');
  const system: Array<{ text: string }> = [];
  const messages: ConverseMessage[] = [];
  request.messages.forEach((message, index) => {
    const at = `messages[${index}]`;
    if (message.role === 'system' || message.role === 'developer') {
      const text = textOf(message.content, at);
      if (text) system.push({ text });
      return;
    }
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const blocks = message.role === 'tool' ? [toolResult(message, at)] : contentBlocks(message, at);
    if (blocks.length === 0) return;
    const previous = messages.at(-1);
    // Converse wants user and assistant turns to alternate: consecutive turns of one role (several tool results) merge.
    if (previous?.role === role) previous.content.push(...blocks);
    else messages.push({ role, content: blocks });
  });
  const body: ConverseRequest = { messages };
  if (system.length > 0) body.system = system;
  const inference = inferenceConfig(request);
  if (inference) body.inferenceConfig = inference;
  const tools = toolConfig(request, messages);
  if (tools) body.toolConfig = tools;
  return body;
}

function textOf(content: ChatMessage['content'], at: string): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part, index) => {
      if (part.type !== 'text' || typeof part.text !== 'string') throw invalid(`${at}.content[${index}]`, 'only text parts are accepted here');
      return part.text;
    })
    .join('\n');
}

function contentBlocks(message: ChatMessage, at: string): ConverseContentBlock[] {
  const blocks: ConverseContentBlock[] = [];
  const content = message.content;
  if (typeof content === 'string') {
    // Bedrock refuses empty text blocks.
    if (content.length > 0) blocks.push({ text: content });
  } else if (Array.isArray(content)) {
    content.forEach((part, index) => {
      const block = partBlock(part, `${at}.content[${index}]`);
      if (block) blocks.push(block);
    });
  }
  if (message.role === 'assistant' && Array.isArray(message.tool_calls)) {
    message.tool_calls.forEach((call, index) => {
      blocks.push({ toolUse: { toolUseId: call.id, name: call.function.name, input: parseArguments(call.function.arguments, `${at}.tool_calls[${index}].function.arguments`) } });
    });
  }
  return blocks;
}

function partBlock(part: ContentPart, at: string): ConverseContentBlock | undefined {
  if (part.type === 'text') return typeof part.text === 'string' && part.text.length > 0 ? { text: part.text } : undefined;
  if (part.type === 'image_url') return imageBlock(part.image_url?.url, `${at}.image_url.url`);
  throw invalid(`${at}.type`, `content part type ${part.type} is not supported by Bedrock`);
}

/** A base64 data URL → a Converse image block, its format from the media type. */
function imageBlock(url: string | undefined, at: string): ConverseContentBlock {
  if (typeof url !== 'string' || url === '') throw invalid(at, 'an image part needs image_url.url');
  // Bedrock cannot fetch URLs, and the gateway does not fetch user-supplied URLs on the caller's behalf.
  if (/^https?:\/\//i.test(url)) throw invalid(at, 'Bedrock cannot fetch image URLs: send the image inline as a base64 data: URL (data:image/png;base64,…)');
  const match = /^data:([^;,]+)((?:;[^;,]*)*);base64,(.*)$/s.exec(url);
  if (!match) throw invalid(at, 'Bedrock takes images inline only, as a base64 data: URL (data:image/png;base64,…)');
  const mediaType = (match[1] ?? '').toLowerCase();
  const format = imageFormats.get(mediaType);
  if (!format) throw invalid(at, `image type ${mediaType} is not supported by Bedrock: use png, jpeg, gif or webp`);
  const bytes = (match[3] ?? '').replace(/\s+/g, '');
  if (bytes === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(bytes)) throw invalid(at, 'the data: URL does not hold base64 image bytes');
  return { image: { format, source: { bytes } } };
}

function toolResult(message: ChatMessage, at: string): ConverseContentBlock {
  const text = textOf(message.content, at);
  return { toolResult: { toolUseId: String(message.tool_call_id), content: [{ text: text.length > 0 ? text : ' ' }] } };
}

function parseArguments(text: string, at: string): unknown {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed)) return parsed;
  } catch {
    // reported below
  }
  throw invalid(at, 'must be a JSON object (Bedrock sends tool input as JSON)');
}

function inferenceConfig(request: ChatRequest): ConverseRequest['inferenceConfig'] {
  const config: NonNullable<ConverseRequest['inferenceConfig']> = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof maxTokens === 'number') config.maxTokens = maxTokens;
  if (typeof request.temperature === 'number') config.temperature = request.temperature;
  if (typeof request.top_p === 'number') config.topP = request.top_p;
  if (typeof request.stop === 'string') config.stopSequences = [request.stop];
  else if (Array.isArray(request.stop) && request.stop.length > 0) config.stopSequences = request.stop;
  return Object.keys(config).length > 0 ? config : undefined;
}

function toolConfig(request: ChatRequest, messages: ConverseMessage[]): ConverseRequest['toolConfig'] {
  const definitions = Array.isArray(request.tools) ? request.tools : [];
  if (definitions.length === 0) return undefined;
  const choice = request.tool_choice;
  const historyUsesTools = messages.some((message) => message.content.some((block) => 'toolUse' in block || 'toolResult' in block));
  // Converse has no "none": leave the tools out, unless the history holds tool blocks (Converse then requires toolConfig).
  if (choice === 'none' && !historyUsesTools) return undefined;
  const tools = definitions.map((tool, index) => {
    const spec = isRecord(tool) && isRecord(tool.function) ? tool.function : undefined;
    if (!spec || typeof spec.name !== 'string') throw invalid(`tools[${index}].function.name`, 'required');
    return {
      toolSpec: {
        name: spec.name,
        ...(typeof spec.description === 'string' ? { description: spec.description } : {}),
        inputSchema: { json: isRecord(spec.parameters) ? spec.parameters : { type: 'object', properties: {} } },
      },
    };
  });
  const config: NonNullable<ConverseRequest['toolConfig']> = { tools };
  if (choice === 'auto') config.toolChoice = { auto: {} };
  else if (choice === 'required') config.toolChoice = { any: {} };
  else if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string') config.toolChoice = { tool: { name: choice.function.name } };
  return config;
}
