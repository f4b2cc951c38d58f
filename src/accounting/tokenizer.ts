// Estimates prompt tokens before a call (gpt-tokenizer, o200k), bounded so a huge prompt never costs much CPU.
import { createRequire } from 'node:module';
import type { ChatRequest, EmbeddingsRequest } from '../core/types.js';

// The o200k tables take ~70 MB: loaded the first time a count is needed (token limits, budgets), never before.
const require = createRequire(import.meta.url);
let countTokens: ((text: string) => number) | undefined;

/** Text longer than this is estimated at 4 characters per token instead of being tokenized (keeps the hot path lean). */
const exactCountLimit = 32_768;
/** Chat formatting overhead per message (role markers), as OpenAI documents it for its chat models. */
const perMessageOverhead = 4;

export function countTextTokens(text: string): number {
  if (text.length === 0) return 0;
  if (text.length > exactCountLimit) return Math.ceil(text.length / 4);
  countTokens ??= (require('gpt-tokenizer') as typeof import('gpt-tokenizer')).countTokens;
  return countTokens(text);
}

export function estimateChatPromptTokens(request: ChatRequest): number {
  let total = 3;
  for (const message of request.messages) {
    total += perMessageOverhead;
    const content = message.content;
    if (typeof content === 'string') total += countTextTokens(content);
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (typeof part.text === 'string') total += countTextTokens(part.text);
        // Images and other parts: a flat allowance, as their real cost depends on the provider.
        else total += 85;
      }
    }
    if (message.tool_calls) total += countTextTokens(JSON.stringify(message.tool_calls));
  }
  if (request.tools) total += countTextTokens(JSON.stringify(request.tools));
  return total;
}

export function estimateEmbeddingsTokens(request: EmbeddingsRequest): number {
  const input = request.input;
  if (typeof input === 'string') return countTextTokens(input);
  let total = 0;
  for (const item of input) {
    if (typeof item === 'string') total += countTextTokens(item);
    else if (typeof item === 'number') total += 1;
    else total += item.length;
  }
  return total;
}

/** Output tokens a chat request may produce: its own cap, else the configured default. */
export function maxCompletionTokens(request: ChatRequest, defaultMaxTokens: number): number {
  const cap = request.max_completion_tokens ?? request.max_tokens;
  const choices = typeof request.n === 'number' && request.n > 1 ? request.n : 1;
  return (typeof cap === 'number' && cap > 0 ? cap : defaultMaxTokens) * choices;
}
