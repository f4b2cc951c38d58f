// OpenAI SSE body → canonical stream chunks. Keeps each event's raw JSON so unmodified chunks are relayed byte for byte.
import { createParser } from 'eventsource-parser';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionChunk, StreamChunk } from '../../core/types.js';
import type { UpstreamCall } from '../http-client.js';
import { mapOpenAIError } from './errors.js';

export async function* readOpenAIStream(provider: string, call: UpstreamCall): AsyncGenerator<StreamChunk> {
  const pending: StreamChunk[] = [];
  let done = false;
  let failure: GatewayError | undefined;
  const parser = createParser({
    onEvent(event) {
      if (done || failure) return;
      const data = event.data;
      if (data === '[DONE]') {
        done = true;
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        failure = new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${provider} sent a malformed stream event`, { upstreamKind: 'bad_response', provider });
        return;
      }
      if (typeof parsed !== 'object' || parsed === null) {
        failure = new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${provider} sent a stream event of an unexpected shape`, { upstreamKind: 'bad_response', provider });
        return;
      }
      if ('error' in parsed) {
        failure = mapOpenAIError(provider, 500, {}, data);
        return;
      }
      pending.push({ chunk: parsed as ChatCompletionChunk, raw: data });
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const part of call.body) {
      parser.feed(decoder.decode(part as Buffer, { stream: true }));
      while (pending.length > 0) yield pending.shift() as StreamChunk;
      if (failure) throw failure;
      // After [DONE] the rest of the body is read (not cut) so the keep-alive connection can be reused.
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    if (done) return;
    throw call.bodyError(error);
  } finally {
    call.finish();
    if (!call.body.destroyed) call.body.destroy();
  }
  if (!done) {
    throw new GatewayError('BW_ERR_UPSTREAM_CONNECTION', `upstream ${provider} ended the stream before [DONE]`, { upstreamKind: 'stream_cut', provider });
  }
}
