// Renders a ChatPlan as OpenAI's `chat.completion` JSON or as its SSE `chat.completion.chunk` events.

import type { ChatCompletion, ChatMessage } from '../core/types.js';
import type { ChatPlan } from './chat-generation.js';
import { bareWordJson, spacedWordJson } from './vocabulary.js';

/** The identity every chunk of one response shares. */
export interface ResponseIdentity {
  id: string;
  created: number;
  model: string;
}

export const doneEvent = 'data: [DONE]\n\n';

export function renderChatCompletion(plan: ChatPlan, identity: ResponseIdentity): string {
  const message: ChatMessage = { role: 'assistant', content: plan.content, refusal: null };
  if (plan.toolCall !== null) {
    message.tool_calls = [{ id: plan.toolCall.id, type: 'function', function: { name: plan.toolCall.name, arguments: plan.toolCall.arguments } }];
  }
  const completion: ChatCompletion = {
    id: identity.id,
    object: 'chat.completion',
    created: identity.created,
    model: identity.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: plan.finishReason }],
    usage: plan.usage,
    system_fingerprint: 'sim',
  };
  return JSON.stringify(completion);
}

/**
 * One string per SSE event, ending with `data: [DONE]`. Built from string templates rather than
 * JSON.stringify per chunk because this is the benchmark hot path; the output is still exactly the
 * JSON that the object form would give.
 */
export function renderChatStream(plan: ChatPlan, identity: ResponseIdentity, includeUsage: boolean): string[] {
  const identityJson = `"id":"${identity.id}","object":"chat.completion.chunk","created":${identity.created},"model":${JSON.stringify(identity.model)},"system_fingerprint":"sim"`;
  const head = `data: {${identityJson},"choices":[{"index":0,"delta":`;
  // With include_usage OpenAI sends `"usage":null` on every chunk but the last; clients rely on the key being there.
  const usageTail = includeUsage ? ',"usage":null' : '';
  const tail = `,"logprobs":null,"finish_reason":null}]${usageTail}}\n\n`;
  const events: string[] = [];

  if (plan.toolCall !== null) {
    const { id, name, argumentPieces } = plan.toolCall;
    events.push(`${head}{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":${JSON.stringify(id)},"type":"function","function":{"name":${JSON.stringify(name)},"arguments":""}}]}${tail}`);
    for (const piece of argumentPieces) {
      events.push(`${head}{"tool_calls":[{"index":0,"function":{"arguments":${JSON.stringify(piece)}}}]}${tail}`);
    }
  } else {
    events.push(`${head}{"role":"assistant","content":""}${tail}`);
    plan.wordIndices.forEach((wordIndex, position) => {
      const wordJson = (position === 0 ? bareWordJson : spacedWordJson)[wordIndex];
      events.push(`${head}{"content":${wordJson}}${tail}`);
    });
  }

  events.push(`${head}{},"logprobs":null,"finish_reason":"${plan.finishReason}"}]${usageTail}}\n\n`);
  if (includeUsage) events.push(`data: {${identityJson},"choices":[],"usage":${JSON.stringify(plan.usage)}}\n\n`);
  events.push(doneEvent);
  return events;
}

/** A 200 body that is not JSON (the first half of a real one, then noise), for the `malformed` fault. */
export function malformedJsonBody(body: string): string {
  return `${body.slice(0, Math.floor(body.length / 2))}<<malformed`;
}
