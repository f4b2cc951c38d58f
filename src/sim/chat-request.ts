// Checks a parsed chat-completions body just enough to simulate it, failing like OpenAI does (400, naming the param).

import type { ChatMessage, ChatRequest } from '../core/types.js';
import { SimRequestError } from './error-envelope.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalPositiveInteger(body: Record<string, unknown>, param: string): number | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new SimRequestError(400, `Invalid '${param}': expected a positive integer.`, { param, code: 'invalid_value' });
  }
  return value;
}

/** Returns the body as a ChatRequest, or throws a SimRequestError for what OpenAI would reject. */
export function validateChatRequest(body: unknown): ChatRequest {
  if (!isRecord(body)) throw new SimRequestError(400, 'The request body must be a JSON object.', { code: 'invalid_body' });
  if (typeof body.model !== 'string' || body.model === '') {
    throw new SimRequestError(400, "Missing required parameter: 'model'.", { param: 'model', code: 'missing_required_parameter' });
  }
  if (body.messages === undefined) {
    throw new SimRequestError(400, "Missing required parameter: 'messages'.", { param: 'messages', code: 'missing_required_parameter' });
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw new SimRequestError(400, "Invalid 'messages': expected a non-empty array.", { param: 'messages', code: 'invalid_value' });
  }
  body.messages.forEach((message: unknown, index: number) => {
    if (!isRecord(message) || typeof message.role !== 'string') {
      throw new SimRequestError(400, `Invalid 'messages[${index}]': expected an object with a 'role'.`, { param: `messages[${index}]`, code: 'invalid_value' });
    }
  });
  optionalPositiveInteger(body, 'max_tokens');
  optionalPositiveInteger(body, 'max_completion_tokens');
  if (body.tools !== undefined && body.tools !== null && !Array.isArray(body.tools)) {
    throw new SimRequestError(400, "Invalid 'tools': expected an array.", { param: 'tools', code: 'invalid_value' });
  }
  // Checked field by field above; the index signatures of ChatRequest carry everything else through.
  return body as ChatRequest;
}

/** The text a message carries: its string content, or its text parts joined. */
export function messageText(message: ChatMessage): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content as unknown[]) {
    // Content arrives from the wire, so a part may not be the object the type promises.
    if (isRecord(part) && typeof part.text === 'string') text += (text === '' ? '' : ' ') + part.text;
  }
  return text;
}
