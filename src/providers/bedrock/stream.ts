// Bedrock ConverseStream events → canonical stream chunks, with one OpenAI tool-call index per toolUse block.
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionChunk, FinishReason, StreamChunk, Usage } from '../../core/types.js';
import { mapBedrockStreamException } from './errors.js';
import type { EventStreamMessage } from './event-stream-decoder.js';
import { finishReasonOf, usageOf } from './response.js';
import type { ConverseUsage } from './wire-types.js';

export interface StreamIdentity {
  id: string;
  created: number;
  model: string;
}

interface ConverseEvent {
  role?: string;
  contentBlockIndex?: number;
  start?: { toolUse?: { toolUseId?: string; name?: string } };
  delta?: { text?: string; toolUse?: { input?: string } };
  stopReason?: string;
  usage?: ConverseUsage;
}

export async function* translateConverseStream(provider: string, messages: AsyncIterable<EventStreamMessage>, identity: StreamIdentity): AsyncGenerator<StreamChunk> {
  const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finishReason: FinishReason | null = null): StreamChunk => ({
    chunk: { id: identity.id, object: 'chat.completion.chunk', created: identity.created, model: identity.model, choices: [{ index: 0, delta, finish_reason: finishReason }] },
  });
  const badResponse = (message: string) => new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${provider} ${message}`, { upstreamKind: 'bad_response', provider });
  // contentBlockIndex counts every block (text too); OpenAI numbers tool calls alone, from 0.
  const toolIndexByBlock = new Map<number, number>();
  let stopped = false;
  let sentRole = false;
  // The role chunk waits for the first output: an exception right after messageStart then still comes before any
  // chunk, so the gateway can answer with a status or fall back instead of cutting a started stream.
  const role = (content: string | null): StreamChunk[] => {
    if (sentRole) return [];
    sentRole = true;
    return [chunk({ role: 'assistant', content })];
  };

  for await (const message of messages) {
    if (message.messageType !== 'event') throw mapBedrockStreamException(provider, message.type, message.payload);
    let event: ConverseEvent;
    try {
      event = JSON.parse(message.payload) as ConverseEvent;
    } catch {
      throw badResponse(`sent a malformed ${message.type} event`);
    }
    switch (message.type) {
      case 'messageStart':
        break;
      case 'contentBlockStart': {
        const toolUse = event.start?.toolUse;
        if (!toolUse) break;
        if (typeof toolUse.toolUseId !== 'string' || typeof toolUse.name !== 'string' || typeof event.contentBlockIndex !== 'number') throw badResponse('sent a toolUse start without id, name or index');
        const index = toolIndexByBlock.size;
        toolIndexByBlock.set(event.contentBlockIndex, index);
        yield* role(null);
        yield chunk({ tool_calls: [{ index, id: toolUse.toolUseId, type: 'function', function: { name: toolUse.name, arguments: '' } }] });
        break;
      }
      case 'contentBlockDelta': {
        const delta = event.delta;
        if (typeof delta?.text === 'string') {
          if (delta.text.length > 0) {
            yield* role('');
            yield chunk({ content: delta.text });
          }
        } else if (typeof delta?.toolUse?.input === 'string') {
          const index = toolIndexByBlock.get(event.contentBlockIndex ?? -1);
          if (index === undefined) throw badResponse('sent tool input for a block it never started');
          yield chunk({ tool_calls: [{ index, function: { arguments: delta.toolUse.input } }] });
        }
        // Reasoning and other block kinds have no place in the canonical format; they are skipped.
        break;
      }
      case 'messageStop':
        stopped = true;
        yield* role('');
        yield chunk({}, finishReasonOf(event.stopReason));
        break;
      case 'metadata':
        if (event.usage && typeof event.usage.inputTokens === 'number' && typeof event.usage.outputTokens === 'number') {
          const usage: Usage = usageOf(event.usage);
          yield { chunk: { id: identity.id, object: 'chat.completion.chunk', created: identity.created, model: identity.model, choices: [], usage } };
        }
        break;
      default:
        // contentBlockStop, and events newer than this adapter, carry nothing the canonical stream needs.
        break;
    }
  }
  if (!stopped) throw new GatewayError('BW_ERR_UPSTREAM_CONNECTION', `upstream ${provider} ended the stream before messageStop`, { upstreamKind: 'stream_cut', provider });
}
