// Anthropic Messages SSE events → canonical chat.completion.chunk objects: role first, text and tool-call deltas
// (one OpenAI tool-call index per tool_use block), then the finish chunk and a usage chunk with no choices.
import type { EventSourceMessage } from 'eventsource-parser';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionChunk, FinishReason, ToolCallDelta, Usage } from '../../core/types.js';
import { parseEventData, type StreamTranslator } from '../translated-stream.js';
import { mapAnthropicStreamError } from './errors.js';
import { finishReasonFor, usageFrom } from './response.js';
import type { AnthropicUsage } from './wire-types.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

interface ToolBlock {
  toolIndex: number;
  /** The input given whole in content_block_start (when no input_json_delta follows). */
  initialInput: unknown;
  sawDelta: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class AnthropicStreamTranslator implements StreamTranslator {
  private readonly provider: string;
  private readonly created: number;
  private id = '';
  private model = '';
  private started = false;
  private roleSent = false;
  private finished = false;
  private stopReason: string | null = null;
  private usage: AnthropicUsage = {};
  private nextToolIndex = 0;
  private readonly toolBlocks = new Map<number, ToolBlock>();

  constructor(provider: string, created: number = Math.floor(Date.now() / 1000)) {
    this.provider = provider;
    this.created = created;
  }

  onEvent(event: EventSourceMessage): ChatCompletionChunk[] {
    if (this.finished) return [];
    const data = parseEventData(this.provider, event.data);
    if (!isRecord(data)) throw this.badEvent('a stream event that is not an object');
    // The SSE event name and the data's `type` always agree; the data is authoritative when they do not.
    const type = typeof data.type === 'string' ? data.type : (event.event ?? '');
    switch (type) {
      case 'message_start':
        return this.messageStart(data);
      case 'content_block_start':
        return this.blockStart(data);
      case 'content_block_delta':
        return this.blockDelta(data);
      case 'content_block_stop':
        return this.blockStop(data);
      case 'message_delta':
        this.messageDelta(data);
        return [];
      case 'message_stop':
        return this.messageStop();
      case 'error':
        throw mapAnthropicStreamError(this.provider, data);
      default:
        // ping, and event types added later: Anthropic's docs ask clients to ignore unknown events.
        return [];
    }
  }

  onEnd(): ChatCompletionChunk[] {
    if (!this.finished) {
      throw new GatewayError('BW_ERR_UPSTREAM_CONNECTION', `upstream ${this.provider} ended the stream before message_stop`, { upstreamKind: 'stream_cut', provider: this.provider });
    }
    return [];
  }

  private messageStart(data: Record<string, unknown>): ChatCompletionChunk[] {
    const message = isRecord(data.message) ? data.message : {};
    this.id = typeof message.id === 'string' ? message.id : '';
    this.model = typeof message.model === 'string' ? message.model : '';
    if (isRecord(message.usage)) this.mergeUsage(message.usage);
    this.started = true;
    // The role chunk waits for the first content, so an error event before any output still fails the request
    // before the gateway has sent a byte (and can fall back) instead of breaking a started stream.
    return [];
  }

  private blockStart(data: Record<string, unknown>): ChatCompletionChunk[] {
    this.requireStarted();
    const index = typeof data.index === 'number' ? data.index : -1;
    const block = isRecord(data.content_block) ? data.content_block : {};
    if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') return this.emit({ content: block.text });
    if (block.type !== 'tool_use') return [];
    if (typeof block.id !== 'string' || typeof block.name !== 'string') throw this.badEvent('a tool_use block without id or name');
    const toolIndex = this.nextToolIndex++;
    this.toolBlocks.set(index, { toolIndex, initialInput: block.input, sawDelta: false });
    return this.emit({ tool_calls: [{ index: toolIndex, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }] });
  }

  private blockDelta(data: Record<string, unknown>): ChatCompletionChunk[] {
    this.requireStarted();
    const delta = isRecord(data.delta) ? data.delta : {};
    if (delta.type === 'text_delta') return typeof delta.text === 'string' && delta.text !== '' ? this.emit({ content: delta.text }) : [];
    if (delta.type !== 'input_json_delta') return []; // thinking, signature and citation deltas have no chat.completion field
    const tool = this.toolBlocks.get(typeof data.index === 'number' ? data.index : -1);
    if (tool === undefined) throw this.badEvent('an input_json_delta for a block that is not a tool_use');
    tool.sawDelta = true;
    if (typeof delta.partial_json !== 'string' || delta.partial_json === '') return [];
    const call: ToolCallDelta = { index: tool.toolIndex, function: { arguments: delta.partial_json } };
    return this.emit({ tool_calls: [call] });
  }

  private blockStop(data: Record<string, unknown>): ChatCompletionChunk[] {
    const tool = this.toolBlocks.get(typeof data.index === 'number' ? data.index : -1);
    // A tool_use whose input came whole in content_block_start (no deltas): its arguments go out now.
    if (tool === undefined || tool.sawDelta || !isRecord(tool.initialInput) || Object.keys(tool.initialInput).length === 0) return [];
    return this.emit({ tool_calls: [{ index: tool.toolIndex, function: { arguments: JSON.stringify(tool.initialInput) } }] });
  }

  private messageDelta(data: Record<string, unknown>): void {
    const delta = isRecord(data.delta) ? data.delta : {};
    if (typeof delta.stop_reason === 'string') this.stopReason = delta.stop_reason;
    // message_delta's usage is cumulative and may repeat the input counts; the latest value of each field wins.
    if (isRecord(data.usage)) this.mergeUsage(data.usage);
  }

  private messageStop(): ChatCompletionChunk[] {
    this.requireStarted();
    this.finished = true;
    const finishReason: FinishReason = finishReasonFor(this.stopReason) ?? 'stop';
    const chunks = this.roleSent ? [] : [this.chunk({ role: 'assistant', content: '' }, null)];
    this.roleSent = true;
    chunks.push(this.chunk({}, finishReason));
    const usage: Usage = usageFrom(this.usage);
    chunks.push({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage });
    return chunks;
  }

  private mergeUsage(usage: Record<string, unknown>): void {
    for (const field of ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const) {
      const value = usage[field];
      if (typeof value === 'number') this.usage[field] = value;
    }
  }

  /** A content chunk, preceded by the role chunk the first time. */
  private emit(delta: Delta): ChatCompletionChunk[] {
    const chunks: ChatCompletionChunk[] = [];
    if (!this.roleSent) {
      this.roleSent = true;
      chunks.push(this.chunk({ role: 'assistant', content: '' }, null));
    }
    chunks.push(this.chunk(delta, null));
    return chunks;
  }

  private chunk(delta: Delta, finishReason: FinishReason | null): ChatCompletionChunk {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] };
  }

  private requireStarted(): void {
    if (!this.started) throw this.badEvent('content before message_start');
  }

  private badEvent(what: string): GatewayError {
    return new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${this.provider} sent ${what}`, { upstreamKind: 'bad_response', provider: this.provider });
  }
}
