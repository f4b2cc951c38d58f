// Canonical stream chunks → Anthropic's streamed-message events, block by block (text_delta, input_json_delta).
import type { ChatCompletionChunk, FinishReason, Usage } from '../../core/types.js';
import type { StreamEncoder } from '../../server/sse.js';
import { anthropicErrorBody } from './errors.js';
import type { AnthropicRequestFacts } from './request.js';
import { matchedStopSequence, messageId, stopReasonOf, usageOf } from './response.js';
import type { AnthropicStreamEvent } from './wire-types.js';

type OpenBlock = { kind: 'text'; index: number } | { kind: 'tool'; index: number; toolIndex: number };

/**
 * Pure and synchronous: feed it chunks, get events. Anthropic blocks are strictly sequential, so a new block closes the
 * open one; a late argument piece for an earlier tool call is still sent, under that call's block index.
 */
export class AnthropicStreamTranslator {
  private readonly facts: AnthropicRequestFacts;
  private readonly id = messageId();
  private started = false;
  private open: OpenBlock | undefined;
  private nextBlockIndex = 0;
  private readonly blockByToolIndex = new Map<number, number>();
  private finishReason: FinishReason | null = null;
  private matchedStop: string | null = null;
  private usage: Usage | undefined;

  constructor(facts: AnthropicRequestFacts) {
    this.facts = facts;
  }

  /** The events one canonical chunk turns into (possibly none). */
  push(chunk: ChatCompletionChunk): AnthropicStreamEvent[] {
    const events = this.start();
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) return events;
    const delta = choice.delta;
    if (typeof delta.content === 'string' && delta.content.length > 0) {
      if (this.open?.kind !== 'text') events.push(...this.openBlock({ kind: 'text', index: this.nextBlockIndex }, { type: 'text', text: '' }));
      events.push(blockDelta(this.open?.index ?? 0, { type: 'text_delta', text: delta.content }));
    }
    for (const call of delta.tool_calls ?? []) {
      let blockIndex = this.blockByToolIndex.get(call.index);
      if (blockIndex === undefined) {
        blockIndex = this.nextBlockIndex;
        this.blockByToolIndex.set(call.index, blockIndex);
        events.push(...this.openBlock({ kind: 'tool', index: blockIndex, toolIndex: call.index }, { type: 'tool_use', id: call.id ?? `toolu_${this.id.slice(4)}_${call.index}`, name: call.function?.name ?? '', input: {} }));
      }
      const piece = call.function?.arguments;
      if (piece) events.push(blockDelta(blockIndex, { type: 'input_json_delta', partial_json: piece }));
    }
    if (choice.finish_reason) {
      this.finishReason = choice.finish_reason;
      this.matchedStop = matchedStopSequence(choice as Record<string, unknown>, this.facts);
    }
    return events;
  }

  /** The closing events, once the canonical stream has ended normally. */
  finish(): AnthropicStreamEvent[] {
    const events = this.start();
    events.push(...this.closeBlock());
    const usage = usageOf(this.usage);
    events.push({
      event: 'message_delta',
      data: { type: 'message_delta', delta: { stop_reason: stopReasonOf(this.finishReason, this.matchedStop), stop_sequence: this.matchedStop }, usage },
    });
    events.push({ event: 'message_stop', data: { type: 'message_stop' } });
    return events;
  }

  private start(): AnthropicStreamEvent[] {
    if (this.started) return [];
    this.started = true;
    // Input tokens are known only at the end of an OpenAI-format stream: message_delta carries the real counts.
    const message = { id: this.id, type: 'message', role: 'assistant', model: this.facts.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } };
    return [{ event: 'message_start', data: { type: 'message_start', message } }];
  }

  private openBlock(block: OpenBlock, contentBlock: Record<string, unknown>): AnthropicStreamEvent[] {
    const events = this.closeBlock();
    this.open = block;
    this.nextBlockIndex = block.index + 1;
    events.push({ event: 'content_block_start', data: { type: 'content_block_start', index: block.index, content_block: contentBlock } });
    return events;
  }

  private closeBlock(): AnthropicStreamEvent[] {
    if (!this.open) return [];
    const index = this.open.index;
    this.open = undefined;
    return [{ event: 'content_block_stop', data: { type: 'content_block_stop', index } }];
  }
}

function blockDelta(index: number, delta: Record<string, unknown>): AnthropicStreamEvent {
  return { event: 'content_block_delta', data: { type: 'content_block_delta', index, delta } };
}

/** One event in SSE framing, with its `event:` line as Anthropic sends it. */
export function encodeAnthropicEvent(event: AnthropicStreamEvent): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** The Anthropic wire format for the shared SSE relay (src/server/sse.ts): `event:` lines, `message_stop` at the end. */
export function anthropicEncoder(facts: AnthropicRequestFacts): StreamEncoder {
  const translator = new AnthropicStreamTranslator(facts);
  return {
    encode: (item) => {
      const events = translator.push(item.chunk);
      return events.length > 0 ? events.map(encodeAnthropicEvent).join('') : undefined;
    },
    end: () => translator.finish().map(encodeAnthropicEvent).join(''),
    error: (failure) => encodeAnthropicEvent({ event: 'error', data: anthropicErrorBody(failure) }),
  };
}
