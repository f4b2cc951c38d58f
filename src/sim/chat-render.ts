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

/** A rendered SSE stream: one string per event, and which events carry a generated token (paced by per-token latency). */
export interface RenderedStream {
  events: string[];
  tokenEvents: boolean[];
}

/** Builds a RenderedStream event by event. */
export class StreamBuilder {
  readonly events: string[] = [];
  readonly tokenEvents: boolean[] = [];

  push(event: string, isToken = false): void {
    this.events.push(event);
    this.tokenEvents.push(isToken);
  }

  build(): RenderedStream {
    return { events: this.events, tokenEvents: this.tokenEvents };
  }
}

export function renderChatCompletion(plan: ChatPlan, identity: ResponseIdentity): string {
  const message: ChatMessage = { role: 'assistant', content: plan.content, refusal: null };
  if (plan.toolCalls.length > 0) {
    message.tool_calls = plan.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));
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
export function renderChatStream(plan: ChatPlan, identity: ResponseIdentity, includeUsage: boolean): RenderedStream {
  const identityJson = `"id":"${identity.id}","object":"chat.completion.chunk","created":${identity.created},"model":${JSON.stringify(identity.model)},"system_fingerprint":"sim"`;
  const head = `data: {${identityJson},"choices":[{"index":0,"delta":`;
  // With include_usage OpenAI sends `"usage":null` on every chunk but the last; clients rely on the key being there.
  const usageTail = includeUsage ? ',"usage":null' : '';
  const tail = `,"logprobs":null,"finish_reason":null}]${usageTail}}\n\n`;
  const stream = new StreamBuilder();

  if (plan.toolCalls.length > 0) {
    // Parallel calls stream one after another, each opened by a header chunk carrying its index, id and name.
    plan.toolCalls.forEach(({ id, name, argumentPieces }, index) => {
      const role = index === 0 ? '"role":"assistant","content":null,' : '';
      stream.push(`${head}{${role}"tool_calls":[{"index":${index},"id":${JSON.stringify(id)},"type":"function","function":{"name":${JSON.stringify(name)},"arguments":""}}]}${tail}`);
      for (const piece of argumentPieces) {
        stream.push(`${head}{"tool_calls":[{"index":${index},"function":{"arguments":${JSON.stringify(piece)}}}]}${tail}`, true);
      }
    });
  } else {
    stream.push(`${head}{"role":"assistant","content":""}${tail}`);
    plan.wordIndices.forEach((wordIndex, position) => {
      const wordJson = (position === 0 ? bareWordJson : spacedWordJson)[wordIndex];
      stream.push(`${head}{"content":${wordJson}}${tail}`, true);
    });
    if (plan.tailText !== '') stream.push(`${head}{"content":${JSON.stringify(plan.tailText)}}${tail}`, true);
  }

  stream.push(`${head}{},"logprobs":null,"finish_reason":"${plan.finishReason}"}]${usageTail}}\n\n`);
  if (includeUsage) stream.push(`data: {${identityJson},"choices":[],"usage":${JSON.stringify(plan.usage)}}\n\n`);
  stream.push(doneEvent);
  return stream.build();
}

/** A 200 body that is not JSON (the first half of a real one, then noise), for the `malformed` fault. */
export function malformedJsonBody(body: string): string {
  return `${body.slice(0, Math.floor(body.length / 2))}<<malformed`;
}
