// Turns a cached completion back into a stream (role chunk, content chunks, tool-call chunks, finish chunk, usage
// chunk — OpenAI's structure), and assembles a streamed completion into one so a streamed miss can be cached.
import type { ChatCompletion, ChatCompletionChunk, ChatMessage, FinishReason, StreamChunk, ToolCall, Usage } from '../core/types.js';

/** Content is replayed in pieces of about this many characters, cut after whitespace: like a model's token chunks, far fewer. */
const pieceCharacters = 48;

export function* replayCompletion(completion: ChatCompletion): Generator<StreamChunk> {
  const identity = { id: completion.id, object: 'chat.completion.chunk' as const, created: completion.created, model: completion.model, system_fingerprint: completion.system_fingerprint ?? null };
  // Spelled out, not `{ ...identity, choices }`: see src/core/objects.ts.
  const chunk = (choices: ChatCompletionChunk['choices'], usage?: Usage): StreamChunk => {
    const body: ChatCompletionChunk = { id: identity.id, object: identity.object, created: identity.created, model: identity.model, system_fingerprint: identity.system_fingerprint, choices };
    if (usage) body.usage = usage;
    return { chunk: body };
  };
  for (const choice of completion.choices) {
    const message = choice.message;
    const index = choice.index;
    const toolCalls = message.tool_calls ?? [];
    const content = typeof message.content === 'string' ? message.content : null;
    yield chunk([{ index, delta: { role: 'assistant', content: toolCalls.length > 0 && !content ? null : '' }, logprobs: null, finish_reason: null }]);
    if (content) for (const piece of pieces(content)) yield chunk([{ index, delta: { content: piece }, logprobs: null, finish_reason: null }]);
    if (typeof message.refusal === 'string') yield chunk([{ index, delta: { refusal: message.refusal }, logprobs: null, finish_reason: null }]);
    for (const [position, call] of toolCalls.entries()) {
      yield chunk([{ index, delta: { tool_calls: [{ index: position, id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } }] }, logprobs: null, finish_reason: null }]);
    }
    yield chunk([{ index, delta: {}, logprobs: null, finish_reason: choice.finish_reason ?? 'stop' }]);
  }
  if (completion.usage) yield chunk([], completion.usage);
}

function* pieces(text: string): Generator<string> {
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + pieceCharacters);
    if (end < text.length) {
      const space = text.lastIndexOf(' ', end);
      if (space > start) end = space + 1;
    }
    yield text.slice(start, end);
    start = end;
  }
}

interface ChoiceParts {
  role: ChatMessage['role'];
  content: string;
  hasContent: boolean;
  refusal?: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason | null;
}

/** Collects a stream's chunks into the completion a JSON request would have received. */
export class StreamAssembler {
  private identity: Pick<ChatCompletion, 'id' | 'created' | 'model' | 'system_fingerprint'> | undefined;
  private readonly choices = new Map<number, ChoiceParts>();
  private usage: Usage | undefined;

  add({ chunk }: StreamChunk): void {
    this.identity ??= { id: chunk.id, created: chunk.created, model: chunk.model, system_fingerprint: chunk.system_fingerprint ?? null };
    if (chunk.usage) this.usage = chunk.usage;
    for (const choice of chunk.choices) {
      let parts = this.choices.get(choice.index);
      if (!parts) this.choices.set(choice.index, (parts = { role: 'assistant', content: '', hasContent: false, toolCalls: [], finishReason: null }));
      const delta = choice.delta;
      if (delta.role) parts.role = delta.role;
      if (typeof delta.content === 'string') {
        parts.content += delta.content;
        parts.hasContent = true;
      }
      if (typeof delta.refusal === 'string') parts.refusal = (parts.refusal ?? '') + delta.refusal;
      for (const call of delta.tool_calls ?? []) {
        const existing = parts.toolCalls[call.index];
        if (!existing) parts.toolCalls[call.index] = { id: call.id ?? '', type: 'function', function: { name: call.function?.name ?? '', arguments: call.function?.arguments ?? '' } };
        else {
          if (call.id) existing.id = call.id;
          if (call.function?.name) existing.function.name += call.function.name;
          if (call.function?.arguments) existing.function.arguments += call.function.arguments;
        }
      }
      if (choice.finish_reason) parts.finishReason = choice.finish_reason;
    }
  }

  /** The completion, or undefined when the stream did not finish every choice (never cache a partial answer). */
  completion(): ChatCompletion | undefined {
    if (!this.identity || this.choices.size === 0) return undefined;
    const choices: ChatCompletion['choices'] = [];
    for (const [index, parts] of [...this.choices.entries()].sort(([one], [other]) => one - other)) {
      if (!parts.finishReason) return undefined;
      const toolCalls = parts.toolCalls.filter((call) => call !== undefined);
      const message: ChatMessage = { role: parts.role, content: parts.hasContent && (parts.content !== '' || toolCalls.length === 0) ? parts.content : null };
      if (parts.refusal !== undefined) message.refusal = parts.refusal;
      if (toolCalls.length > 0) message.tool_calls = toolCalls;
      choices.push({ index, message, logprobs: null, finish_reason: parts.finishReason });
    }
    const completion: ChatCompletion = { id: this.identity.id, object: 'chat.completion', created: this.identity.created, model: this.identity.model, choices };
    if (this.usage) completion.usage = this.usage;
    if (this.identity.system_fingerprint) completion.system_fingerprint = this.identity.system_fingerprint;
    return completion;
  }
}
