// Relays a canonical stream to the client as server-sent events: headers once the first chunk is in hand, each
// chunk flushed as it arrives (with backpressure), a closing event at the end, and an error event (never a silent
// cut) on failure. The wire format is an encoder: OpenAI's here, Anthropic's in src/frontends/anthropic/.
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyReply } from 'fastify';
import type { GatewayError } from '../core/errors.js';
import type { StreamChunk } from '../core/types.js';
import { streamStart, type RequestRecord } from '../observability/events.js';
import type { PipelineContext } from '../pipeline/context.js';
import { CallAbortedError } from '../providers/http-client.js';
import { reportUpstreamError } from '../pipeline/upstream-errors.js';
import { toGatewayError } from './error-handler.js';

export interface StreamStart {
  /** The first chunk, already pulled so that an upstream failing before any byte still gets a proper HTTP status. */
  first: IteratorResult<StreamChunk>;
  iterator: AsyncIterator<StreamChunk>;
}

/** Turns canonical chunks into one wire format's events. */
export interface StreamEncoder {
  /** The text for one chunk, or undefined to write nothing for it. */
  encode(item: StreamChunk): string | undefined;
  /** The closing text after the last chunk. */
  end(): string;
  /** The final event when the stream fails after its headers were sent. */
  error(failure: GatewayError): string;
}

/** Pulls the first chunk; throws (for a normal error response) if the upstream fails before sending one. */
export async function startStream(stream: AsyncIterable<StreamChunk>): Promise<StreamStart> {
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  return { first, iterator };
}

export async function relayStream(response: ServerResponse, headers: Record<string, string>, start: StreamStart, record: RequestRecord, encoder: StreamEncoder): Promise<void> {
  response.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  record.status = 200;
  record.streamStarted = true;
  if (streamStart.hasSubscribers) streamStart.publish(record);
  let item = start.first;
  let corked = false;
  const uncork = () => {
    corked = false;
    response.uncork();
  };
  try {
    while (!item.done) {
      if (response.destroyed) break;
      const usage = item.value.chunk.usage;
      if (usage) {
        record.promptTokens = usage.prompt_tokens;
        record.completionTokens = usage.completion_tokens;
      }
      const text = encoder.encode(item.value);
      if (text) {
        if (record.timeToFirstTokenMs === undefined && carriesOutput(item.value)) record.timeToFirstTokenMs = performance.now() - record.startedAt;
        // Events already in hand (one upstream read often carries many) leave in one write at the end of this turn of
        // the event loop, instead of one syscall each; nothing waits for data that has not arrived.
        if (!corked) {
          corked = true;
          response.cork();
          setImmediate(uncork);
        }
        if (!response.write(text)) await drained(response);
      }
      item = await start.iterator.next();
    }
    if (!response.destroyed) response.end(encoder.end());
  } catch (error) {
    if (error instanceof CallAbortedError || response.destroyed) {
      response.destroy();
      return;
    }
    reportUpstreamError(record, error);
    const failure = toGatewayError(error);
    record.errorCode = failure.code;
    // The status line is gone already: the failure travels as a final event.
    response.end(encoder.error(failure));
  } finally {
    if (!item.done) await start.iterator.return?.();
  }
}

const usageNull = ',"usage":null';

/** OpenAI's SSE: `data: <chunk>` per chunk (raw upstream JSON when unmodified), `data: [DONE]` at the end. */
export function openAIEncoder(includeUsage: boolean): StreamEncoder {
  return {
    encode(item) {
      const chunk = item.chunk;
      if (includeUsage) return `data: ${item.raw ?? JSON.stringify(chunk)}\n\n`;
      // Usage was asked of the upstream for accounting; the client did not ask for it, so none of it shows:
      // not the usage chunk, and not the `"usage":null` the upstream then adds to every other chunk.
      if (chunk.usage) return chunk.choices.length === 0 ? undefined : `data: ${JSON.stringify({ ...chunk, usage: undefined })}\n\n`;
      if (item.raw === undefined) return `data: ${JSON.stringify(chunk)}\n\n`;
      return `data: ${item.raw.includes(usageNull) ? item.raw.replace(usageNull, '') : item.raw}\n\n`;
    },
    end: () => 'data: [DONE]\n\n',
    error(failure) {
      const envelope = { error: { ...failure.toEnvelope().error, code: 'BW_ERR_STREAM_INTERRUPTED', message: `stream interrupted: ${failure.message}` } };
      return `data: ${JSON.stringify(envelope)}\n\n`;
    },
  };
}

/** Headers for a hijacked (streamed) reply: those already set on the reply, the pipeline's, and who served it. */
export function streamResponseHeaders(reply: FastifyReply, context: PipelineContext): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = String(value);
  Object.assign(headers, context.responseHeaders);
  if (context.record.provider) headers['x-breakwater-provider'] = context.record.provider;
  if (context.record.model) headers['x-breakwater-model'] = context.record.model;
  return headers;
}

/** The first chunk that carries output (text, a tool call, a refusal) marks the time to first token. */
function carriesOutput(item: StreamChunk): boolean {
  for (const choice of item.chunk.choices) {
    const delta = choice.delta;
    if (delta.content || delta.refusal || (delta.tool_calls && delta.tool_calls.length > 0)) return true;
  }
  return false;
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
