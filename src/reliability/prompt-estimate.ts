// Estimates a request's prompt tokens with a real tokenizer, for when the upstream never reported usage.
import type { ChatRequest } from '../core/types.js';

let tokenizer: Promise<{ countTokens: (text: string) => number }> | undefined;

export async function estimatePromptTokens(request: ChatRequest): Promise<number> {
  // Loaded on first use only: most requests get real usage from the upstream and never need it.
  tokenizer ??= import('gpt-tokenizer');
  const { countTokens } = await tokenizer;
  let total = 0;
  for (const message of request.messages) {
    total += 4;
    const content = message.content;
    if (typeof content === 'string') total += countTokens(content);
    else if (Array.isArray(content)) for (const part of content) if (typeof part.text === 'string') total += countTokens(part.text);
  }
  return total;
}
