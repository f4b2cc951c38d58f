// Relays a canonical stream to the client as OpenAI SSE: headers once the first chunk is in hand, one event per
// chunk flushed as it arrives, `data: [DONE]` at the end, and an error event (never a silent cut) on failure.
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { StreamChunk } from '../core/types.js';
import type { RequestRecord } from '../observability/events.js';
import { CallAbortedError } from '../providers/http-client.js';
import { reportUpstreamError } from '../pipeline/upstream-errors.js';
import { toGatewayError } from './error-handler.js';

const doneEvent = 'data: [DONE]\n\n';

export interface StreamStart {
  /** The first chunk, already pulled so that an upstream failing before any byte still gets a proper HTTP status. */
  first: IteratorResult<StreamChunk>;
  iterator: AsyncIterator<StreamChunk>;
}

/** Pulls the first chunk; throws (for a normal error response) if the upstream fails before sending one. */
export async function startStream(stream: AsyncIterable<StreamChunk>): Promise<StreamStart> {
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  return { first, iterator };
}

export async function relayStream(response: ServerResponse, headers: Record<string, string>, start: StreamStart, record: RequestRecord, includeUsage: boolean): Promise<void> {
  response.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  record.status = 200;
  let item = start.first;
  try {
    while (!item.done) {
      if (response.destroyed) break;
      const event = encodeChunk(item.value, record, includeUsage);
      if (event !== undefined) {
        if (record.timeToFirstTokenMs === undefined) record.timeToFirstTokenMs = performance.now() - record.startedAt;
        if (!response.write(event)) await drained(response);
      }
      item = await start.iterator.next();
    }
    if (!response.destroyed) response.end(doneEvent);
  } catch (error) {
    if (error instanceof CallAbortedError || response.destroyed) {
      response.destroy();
      return;
    }
    reportUpstreamError(record, error);
    const failure = toGatewayError(error);
    record.errorCode = failure.code;
    // The status line is gone already: the failure travels as a final event in the OpenAI error shape.
    const envelope = { error: { ...failure.toEnvelope().error, code: 'BW_ERR_STREAM_INTERRUPTED', message: `stream interrupted: ${failure.message}` } };
    response.end(`data: ${JSON.stringify(envelope)}\n\n`);
  } finally {
    if (!item.done) await start.iterator.return?.();
  }
}

function encodeChunk(item: StreamChunk, record: RequestRecord, includeUsage: boolean): string | undefined {
  const chunk = item.chunk;
  const usage = chunk.usage;
  if (usage) {
    record.promptTokens = usage.prompt_tokens;
    record.completionTokens = usage.completion_tokens;
    if (!includeUsage) {
      // Usage was asked of the upstream for accounting; the client did not ask for it.
      if (chunk.choices.length === 0) return undefined;
      return `data: ${JSON.stringify({ ...chunk, usage: undefined })}\n\n`;
    }
  }
  return `data: ${item.raw ?? JSON.stringify(chunk)}\n\n`;
}

function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
