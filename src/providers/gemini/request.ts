// Canonical (OpenAI chat) request → Gemini generateContent body: contents with user/model roles, systemInstruction,
// function declarations, calls and responses, generationConfig (incl. JSON mode), tool choice as toolConfig.
import { GatewayError } from '../../core/errors.js';
import type { ChatMessage, ChatRequest, ContentPart } from '../../core/types.js';
import type { GeminiContent, GeminiFunctionDeclaration, GeminiPart, GeminiRequest } from './wire-types.js';

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('BW_ERR_INVALID_REQUEST', message, { param });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const dataUrlPattern = /^data:([^;,]+);base64,(.*)$/s;

function imagePart(part: ContentPart, param: string): GeminiPart {
  const url = part.image_url?.url;
  if (typeof url !== 'string' || url === '') throw invalid(`${param}.image_url.url`, 'an image part needs image_url.url');
  const data = dataUrlPattern.exec(url);
  if (data) return { inlineData: { mimeType: data[1] ?? '', data: data[2] ?? '' } };
  // Gemini takes remote files as fileData; Google AI accepts its own File API URIs there (gs:// and https on Vertex).
  if (/^(https?|gs):\/\//i.test(url)) return { fileData: { mimeType: mimeTypeFromUrl(url), fileUri: url } };
  throw invalid(`${param}.image_url.url`, 'Gemini accepts images as base64 data: URLs or file URIs');
}

function mimeTypeFromUrl(url: string): string {
  const extension = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase();
  const types: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', heic: 'image/heic', heif: 'image/heif' };
  return types[extension ?? ''] ?? 'image/jpeg';
}

function parts(content: ChatMessage['content'], param: string, allowImages: boolean): GeminiPart[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  return content.flatMap((part, index): GeminiPart[] => {
    const at = `${param}[${index}]`;
    if (part.type === 'text') return typeof part.text === 'string' && part.text !== '' ? [{ text: part.text }] : [];
    if (part.type === 'image_url' && allowImages) return [imagePart(part, at)];
    throw invalid(`${at}.type`, `content part type "${part.type}" is not supported by Gemini in this message`);
  });
}

function plainText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
}

function parseArguments(text: string, param: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalid(param, 'tool call arguments must be valid JSON to be sent to Gemini');
  }
}

/** Gemini's functionResponse.response must be an object: a JSON object result is sent as is, anything else wrapped. */
function functionResponse(content: ChatMessage['content']): unknown {
  const text = plainText(content);
  try {
    const parsed = JSON.parse(text) as unknown;
    if (isRecord(parsed)) return parsed;
  } catch {
    // Plain text: wrapped below.
  }
  return { content: text };
}

function contents(messages: readonly ChatMessage[]): GeminiContent[] {
  // Gemini's functionResponse needs the function's name; OpenAI's tool message only has the call id.
  const namesById = new Map<string, string>();
  const converted: GeminiContent[] = [];
  messages.forEach((message, index) => {
    const param = `messages[${index}]`;
    let content: GeminiContent | undefined;
    if (message.role === 'system' || message.role === 'developer') return;
    if (message.role === 'assistant') {
      const modelParts = parts(message.content, `${param}.content`, false);
      (message.tool_calls ?? []).forEach((call, callIndex) => {
        namesById.set(call.id, call.function.name);
        modelParts.push({ functionCall: { name: call.function.name, args: parseArguments(call.function.arguments, `${param}.tool_calls[${callIndex}].function.arguments`) } });
      });
      if (modelParts.length > 0) content = { role: 'model', parts: modelParts };
    } else if (message.role === 'tool') {
      const name = typeof message.tool_call_id === 'string' ? namesById.get(message.tool_call_id) : undefined;
      if (name === undefined) throw invalid(`${param}.tool_call_id`, 'a tool message must answer a tool call made earlier in the conversation');
      content = { role: 'user', parts: [{ functionResponse: { name, response: functionResponse(message.content) } }] };
    } else {
      content = { role: 'user', parts: parts(message.content, `${param}.content`, true) };
    }
    if (content === undefined || content.parts.length === 0) return;
    // Consecutive turns of one role are merged: parallel function responses must travel in one content.
    const previous = converted.at(-1);
    if (previous !== undefined && previous.role === content.role) previous.parts.push(...content.parts);
    else converted.push(content);
  });
  return converted;
}

function systemInstruction(messages: readonly ChatMessage[]): GeminiRequest['systemInstruction'] {
  const system = messages.filter((message) => message.role === 'system' || message.role === 'developer');
  const instruction = system.flatMap((message, index) => parts(message.content, `messages[${index}].content`, false));
  return instruction.length === 0 ? undefined : { parts: instruction };
}

// JSON Schema keywords Gemini's OpenAPI-subset schema refuses; dropping them keeps the rest of the schema intact.
const unsupportedSchemaKeys = new Set(['$schema', '$id', 'additionalProperties', 'strict', 'examples']);

function geminiSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(geminiSchema);
  if (!isRecord(schema)) return schema;
  const cleaned: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) if (!unsupportedSchemaKeys.has(key)) cleaned[key] = key === 'enum' || key === 'required' ? value : geminiSchema(value);
  return cleaned;
}

function declarations(request: ChatRequest): GeminiFunctionDeclaration[] | undefined {
  if (!Array.isArray(request.tools) || request.tools.length === 0) return undefined;
  return request.tools.map((tool, index) => {
    const spec = isRecord(tool) && tool.type === 'function' && isRecord(tool.function) ? tool.function : undefined;
    if (spec === undefined || typeof spec.name !== 'string') throw invalid(`tools[${index}]`, 'only function tools can be sent to Gemini');
    const declaration: GeminiFunctionDeclaration = { name: spec.name };
    if (typeof spec.description === 'string') declaration.description = spec.description;
    // An object schema with no properties is refused by Gemini; a function without parameters is declared without one.
    const parameters = spec.parameters;
    if (isRecord(parameters) && !(isRecord(parameters.properties) && Object.keys(parameters.properties).length === 0)) declaration.parameters = geminiSchema(parameters);
    return declaration;
  });
}

function toolConfig(request: ChatRequest): GeminiRequest['toolConfig'] {
  const choice = request.tool_choice;
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string') {
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
  }
  throw invalid('tool_choice', 'tool_choice must be "auto", "none", "required" or a named function');
}

function generationConfig(request: ChatRequest): GeminiRequest['generationConfig'] {
  const config: NonNullable<GeminiRequest['generationConfig']> = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof maxTokens === 'number') config.maxOutputTokens = maxTokens;
  if (typeof request.temperature === 'number') config.temperature = request.temperature;
  if (typeof request.top_p === 'number') config.topP = request.top_p;
  if (typeof request.stop === 'string') config.stopSequences = [request.stop];
  else if (Array.isArray(request.stop) && request.stop.length > 0) config.stopSequences = request.stop;
  if (typeof request.n === 'number' && request.n > 1) config.candidateCount = request.n;
  if (typeof request.seed === 'number') config.seed = request.seed;
  if (typeof request.presence_penalty === 'number') config.presencePenalty = request.presence_penalty;
  if (typeof request.frequency_penalty === 'number') config.frequencyPenalty = request.frequency_penalty;
  Object.assign(config, responseFormat(request.response_format));
  return Object.keys(config).length === 0 ? undefined : config;
}

/**
 * OpenAI's `response_format` → Gemini JSON mode. `json_object` sets only the MIME type; `json_schema` also sends the
 * schema as `responseJsonSchema`, which takes JSON Schema as is (unlike `responseSchema`, an OpenAPI subset that would
 * need converting and would refuse `$ref`, `additionalProperties` and friends).
 */
function responseFormat(format: unknown): { responseMimeType?: string; responseJsonSchema?: Record<string, unknown> } {
  if (format === undefined || format === null) return {};
  if (!isRecord(format)) throw invalid('response_format', 'response_format must be an object such as {"type": "json_object"}');
  if (format.type === 'text') return {};
  if (format.type === 'json_object') return { responseMimeType: 'application/json' };
  if (format.type !== 'json_schema') throw invalid('response_format.type', 'response_format.type must be "text", "json_object" or "json_schema"');
  if (!isRecord(format.json_schema)) throw invalid('response_format.json_schema', 'a json_schema response format needs json_schema: {name, schema}');
  const schema = format.json_schema.schema;
  if (schema === undefined) return { responseMimeType: 'application/json' };
  if (!isRecord(schema)) throw invalid('response_format.json_schema.schema', 'the schema must be a JSON Schema object');
  return { responseMimeType: 'application/json', responseJsonSchema: schema };
}

export function geminiRequestBody(request: ChatRequest): GeminiRequest {
  const body: GeminiRequest = { contents: contents(request.messages) };
  const system = systemInstruction(request.messages);
  if (system !== undefined) body.systemInstruction = system;
  const functions = declarations(request);
  if (functions !== undefined) {
    body.tools = [{ functionDeclarations: functions }];
    const config = toolConfig(request);
    if (config !== undefined) body.toolConfig = config;
  }
  const config = generationConfig(request);
  if (config !== undefined) body.generationConfig = config;
  return body;
}

/** `models/gemini-2.0-flash` and `gemini-2.0-flash` both name the model; the URL wants the bare name. */
export function geminiModelPath(upstreamModel: string, method: string): string {
  const model = upstreamModel.startsWith('models/') ? upstreamModel.slice('models/'.length) : upstreamModel;
  return `/v1beta/models/${encodeURIComponent(model)}:${method}`;
}
