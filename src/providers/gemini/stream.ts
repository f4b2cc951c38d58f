// Gemini streamGenerateContent (alt=sse) events → canonical chat.completion.chunk objects. Each event is a whole
// GenerateContentResponse holding the next parts; function calls arrive whole, one tool-call index each. The body
// simply ends (no [DONE]), so the finish and usage chunks are sent then, if a finish reason was seen.
import type { EventSourceMessage } from 'eventsource-parser';
import { randomBytes } from 'node:crypto';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionChunk, FinishReason } from '../../core/types.js';
import { parseEventData, type StreamTranslator } from '../translated-stream.js';
import { mapGeminiStreamError } from './errors.js';
import { finishReasonFor, isGeminiResponse, promptBlockedError, readParts, usageFrom } from './response.js';
import type { GeminiResponse, GeminiUsageMetadata } from './wire-types.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

interface ChoiceState {
  roleSent: boolean;
  toolCalls: number;
  finishReason: string | undefined;
}

export class GeminiStreamTranslator implements StreamTranslator {
  private readonly provider: string;
  private readonly created: number;
  private id: string;
  private model: string;
  private usage: GeminiUsageMetadata | undefined;
  private readonly choices = new Map<number, ChoiceState>();

  constructor(provider: string, upstreamModel: string, created: number = Math.floor(Date.now() / 1000)) {
    this.provider = provider;
    this.created = created;
    this.model = upstreamModel;
    this.id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  }

  onEvent(event: EventSourceMessage): ChatCompletionChunk[] {
    const data = parseEventData(this.provider, event.data);
    if (typeof data === 'object' && data !== null && 'error' in data) throw mapGeminiStreamError(this.provider, data);
    if (!isGeminiResponse(data) && !(typeof data === 'object' && data !== null && 'usageMetadata' in data)) {
      throw new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${this.provider} sent a stream event of an unexpected shape`, { upstreamKind: 'bad_response', provider: this.provider });
    }
    const response = data as GeminiResponse;
    const blocked = promptBlockedError(this.provider, response);
    if (blocked) throw blocked;
    if (response.responseId && this.choices.size === 0) this.id = `chatcmpl-${response.responseId}`;
    if (response.modelVersion) this.model = response.modelVersion;
    // usageMetadata is repeated on every event with growing counts; the last one is the total.
    if (response.usageMetadata) this.usage = response.usageMetadata;
    const chunks: ChatCompletionChunk[] = [];
    (response.candidates ?? []).forEach((candidate, position) => {
      const index = candidate.index ?? position;
      const state = this.state(index);
      const { text, toolCalls } = readParts(candidate.content?.parts);
      if (text !== '') chunks.push(...this.emit(index, state, { content: text }));
      for (const call of toolCalls) {
        const toolIndex = state.toolCalls++;
        chunks.push(...this.emit(index, state, { tool_calls: [{ index: toolIndex, id: call.id, type: 'function', function: call.function }] }));
      }
      if (candidate.finishReason !== undefined) state.finishReason = candidate.finishReason;
    });
    return chunks;
  }

  onEnd(): ChatCompletionChunk[] {
    const finished = [...this.choices.entries()].filter(([, state]) => state.finishReason !== undefined);
    if (finished.length === 0) {
      throw new GatewayError('BW_ERR_UPSTREAM_CONNECTION', `upstream ${this.provider} ended the stream without a finish reason`, { upstreamKind: 'stream_cut', provider: this.provider });
    }
    const chunks: ChatCompletionChunk[] = [];
    for (const [index, state] of finished) {
      const reason: FinishReason = finishReasonFor(state.finishReason, state.toolCalls > 0) ?? 'stop';
      if (!state.roleSent) chunks.push(...this.emit(index, state, { content: '' }).slice(0, 1));
      chunks.push(this.chunk(index, {}, reason));
    }
    chunks.push({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage: usageFrom(this.usage) });
    return chunks;
  }

  private state(index: number): ChoiceState {
    let state = this.choices.get(index);
    if (state === undefined) {
      state = { roleSent: false, toolCalls: 0, finishReason: undefined };
      this.choices.set(index, state);
    }
    return state;
  }

  private emit(index: number, state: ChoiceState, delta: Delta): ChatCompletionChunk[] {
    const chunks: ChatCompletionChunk[] = [];
    if (!state.roleSent) {
      state.roleSent = true;
      chunks.push(this.chunk(index, { role: 'assistant', content: '' }, null));
    }
    chunks.push(this.chunk(index, delta, null));
    return chunks;
  }

  private chunk(index: number, delta: Delta, finishReason: FinishReason | null): ChatCompletionChunk {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [{ index, delta, finish_reason: finishReason, logprobs: null }] };
  }
}
