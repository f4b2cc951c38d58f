// Request validation: precise 400s naming the offending field; unknown fields pass through untouched.
import { GatewayError } from '../core/errors.js';
import type { ChatRequest, EmbeddingsRequest } from '../core/types.js';

export interface ValidationLimits {
  maxMessages: number;
}

const roles = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);
const maxEmbeddingInputs = 2048;

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('BW_ERR_INVALID_REQUEST', `${param}: ${message}`, { param });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalNumber(body: Record<string, unknown>, name: string, minimum: number, maximum: number, integer = false): void {
  const value = body[name];
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(name, 'must be a number');
  if (integer && !Number.isInteger(value)) throw invalid(name, 'must be an integer');
  if (value < minimum || value > maximum) throw invalid(name, `must be between ${minimum} and ${maximum}`);
}

function requireModel(body: Record<string, unknown>): void {
  if (body.model === undefined) throw invalid('model', 'required');
  if (typeof body.model !== 'string' || body.model.length === 0 || body.model.length > 256) throw invalid('model', 'must be a non-empty string of at most 256 characters');
}

export function validateChatRequest(body: unknown, limits: ValidationLimits): ChatRequest {
  if (!isObject(body)) throw invalid('body', 'must be a JSON object');
  requireModel(body);
  const messages = body.messages;
  if (messages === undefined) throw invalid('messages', 'required');
  if (!Array.isArray(messages)) throw invalid('messages', 'must be an array');
  if (messages.length === 0) throw invalid('messages', 'must contain at least one message');
  if (messages.length > limits.maxMessages) throw invalid('messages', `at most ${limits.maxMessages} messages are accepted`);
  for (let index = 0; index < messages.length; index++) validateMessage(messages[index], `messages[${index}]`);
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw invalid('stream', 'must be a boolean');
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null) {
    if (!isObject(streamOptions)) throw invalid('stream_options', 'must be an object');
    if (streamOptions.include_usage !== undefined && typeof streamOptions.include_usage !== 'boolean') throw invalid('stream_options.include_usage', 'must be a boolean');
  }
  optionalNumber(body, 'temperature', 0, 2);
  optionalNumber(body, 'top_p', 0, 1);
  optionalNumber(body, 'n', 1, 128, true);
  optionalNumber(body, 'max_tokens', 1, 10_000_000, true);
  optionalNumber(body, 'max_completion_tokens', 1, 10_000_000, true);
  optionalNumber(body, 'presence_penalty', -2, 2);
  optionalNumber(body, 'frequency_penalty', -2, 2);
  optionalNumber(body, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true);
  const stop = body.stop;
  if (stop !== undefined && stop !== null && typeof stop !== 'string') {
    if (!Array.isArray(stop) || stop.length > 4 || stop.some((item) => typeof item !== 'string')) throw invalid('stop', 'must be a string or an array of at most 4 strings');
  }
  if (body.tools !== undefined && body.tools !== null && !Array.isArray(body.tools)) throw invalid('tools', 'must be an array');
  if (body.user !== undefined && typeof body.user !== 'string') throw invalid('user', 'must be a string');
  return body as ChatRequest;
}

function validateMessage(message: unknown, at: string): void {
  if (!isObject(message)) throw invalid(at, 'must be an object');
  const role = message.role;
  if (role === undefined) throw invalid(`${at}.role`, 'required');
  if (typeof role !== 'string' || !roles.has(role)) throw invalid(`${at}.role`, 'must be one of system, developer, user, assistant, tool');
  const content = message.content;
  if (content === undefined || content === null) {
    // Only an assistant turn that calls tools (or a legacy function call) may omit its content.
    if (role !== 'assistant') throw invalid(`${at}.content`, 'required');
  } else if (typeof content !== 'string') {
    if (!Array.isArray(content)) throw invalid(`${at}.content`, 'must be a string or an array of content parts');
    for (let index = 0; index < content.length; index++) {
      const part: unknown = content[index];
      if (!isObject(part) || typeof part.type !== 'string') throw invalid(`${at}.content[${index}].type`, 'required');
    }
  }
  if (role === 'tool' && typeof message.tool_call_id !== 'string') throw invalid(`${at}.tool_call_id`, 'required for tool messages');
  if (message.tool_calls !== undefined && !Array.isArray(message.tool_calls)) throw invalid(`${at}.tool_calls`, 'must be an array');
}

export function validateEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  if (!isObject(body)) throw invalid('body', 'must be a JSON object');
  requireModel(body);
  const input = body.input;
  if (input === undefined) throw invalid('input', 'required');
  if (typeof input === 'string') {
    if (input.length === 0) throw invalid('input', 'must not be empty');
  } else if (Array.isArray(input)) {
    if (input.length === 0) throw invalid('input', 'must not be empty');
    if (input.length > maxEmbeddingInputs) throw invalid('input', `at most ${maxEmbeddingInputs} inputs are accepted`);
    const allStrings = input.every((item) => typeof item === 'string');
    const allNumbers = input.every((item) => typeof item === 'number');
    const allTokenArrays = input.every((item) => Array.isArray(item) && item.every((token) => typeof token === 'number'));
    if (!allStrings && !allNumbers && !allTokenArrays) throw invalid('input', 'must be a string, an array of strings, or token arrays');
  } else {
    throw invalid('input', 'must be a string or an array');
  }
  if (body.encoding_format !== undefined && body.encoding_format !== 'float' && body.encoding_format !== 'base64') throw invalid('encoding_format', 'must be float or base64');
  optionalNumber(body, 'dimensions', 1, 65_536, true);
  return body as EmbeddingsRequest;
}
