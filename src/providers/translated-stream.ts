// Reads a provider's SSE body through a translator into canonical stream chunks (for wire formats that are not OpenAI's).
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { GatewayError } from '../core/errors.js';
import type { ChatCompletionChunk, StreamChunk } from '../core/types.js';
import type { UpstreamCall } from './http-client.js';

/** Turns one provider's stream events into canonical chunks; pure, so fixtures can drive it without HTTP. */
export interface StreamTranslator {
  /** One SSE event → zero or more chunks. Throws a GatewayError for an error event or a malformed one. */
  onEvent(event: EventSourceMessage): ChatCompletionChunk[];
  /** The body ended: the closing chunks (finish, usage), or a GatewayError if the stream stopped short. */
  onEnd(): ChatCompletionChunk[];
}

/** Parses an event's JSON data, or fails as a bad upstream response. */
export function parseEventData(provider: string, data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    throw new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${provider} sent a malformed stream event`, { upstreamKind: 'bad_response', provider });
  }
}

// One event's data may be large (a long tool argument), but never this large: a stream that buffers more is refused.
const maximumEventCharacters = 8 * 1024 * 1024;

export async function* readTranslatedStream(provider: string, call: UpstreamCall, translator: StreamTranslator): AsyncGenerator<StreamChunk> {
  const pending: ChatCompletionChunk[] = [];
  let failure: unknown;
  const parser = createParser({
    maxBufferSize: maximumEventCharacters,
    onError(error) {
      // Unknown fields and bad retry values are ignorable noise; only an overflowing buffer stops the stream.
      if (error.type !== 'max-buffer-size-exceeded') return;
      failure ??= new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${provider} sent an unreadable stream (${error.type})`, { upstreamKind: 'bad_response', provider });
    },
    onEvent(event) {
      if (failure !== undefined) return;
      try {
        pending.push(...translator.onEvent(event));
      } catch (error) {
        failure = error;
      }
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const part of call.body) {
      parser.feed(decoder.decode(part as Buffer, { stream: true }));
      // Chunks translated before a failure are still delivered, in order, then the failure is thrown.
      while (pending.length > 0) yield { chunk: pending.shift() as ChatCompletionChunk };
      if (failure !== undefined) throw failure;
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw call.bodyError(error);
  } finally {
    call.finish();
    if (!call.body.destroyed) call.body.destroy();
  }
  for (const chunk of translator.onEnd()) yield { chunk };
}
