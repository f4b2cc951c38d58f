// Anthropic's Messages API in front (`POST /v1/messages`, JSON and SSE), served by any provider through the same chat pipeline.
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ChatRequest } from '../../core/types.js';
import { anthropicErrorBody } from '../../frontends/anthropic/errors.js';
import { translateAnthropicRequest, type AnthropicRequestFacts } from '../../frontends/anthropic/request.js';
import { toAnthropicMessage } from '../../frontends/anthropic/response.js';
import { AnthropicStreamTranslator, encodeAnthropicEvent } from '../../frontends/anthropic/stream.js';
import type { RequestRecord } from '../../observability/events.js';
import type { ChatOutcome, Handler, PipelineContext } from '../../pipeline/context.js';
import { reportUpstreamError } from '../../pipeline/upstream-errors.js';
import { validateChatRequest } from '../../pipeline/validate.js';
import { CallAbortedError } from '../../providers/http-client.js';
import { toGatewayError } from '../error-handler.js';
import { contextOf } from '../request-context.js';
import { startStream, type StreamStart } from '../sse.js';

export interface AnthropicMessagesRouteOptions {
  /** The same composed chat handler `/v1/chat/completions` uses: limits, reliability and accounting apply alike. */
  chat: Handler<ChatRequest, ChatOutcome>;
  maxMessages: number;
}

export function registerAnthropicMessagesRoute(app: FastifyInstance, options: AnthropicMessagesRouteOptions): void {
  const limits = { maxMessages: options.maxMessages };

  // `anthropic-version` and `anthropic-beta` headers are accepted and ignored: the answer's shape does not depend on them.
  app.post('/v1/messages', { config: { errorShape: 'anthropic' } }, async (request, reply) => {
    const { request: chatRequest, facts } = translateAnthropicRequest(request.body);
    validateChatRequest(chatRequest, limits);
    const context = contextOf(request);
    context.record.stream = chatRequest.stream === true;
    reply.header('request-id', request.id);
    const outcome = await options.chat(chatRequest, context);
    if (outcome.kind === 'json') {
      return reply.header('content-type', 'application/json').send(JSON.stringify(toAnthropicMessage(outcome.result.completion, facts)));
    }
    let start: StreamStart;
    try {
      start = await startStream(outcome.stream);
    } catch (error) {
      reportUpstreamError(context.record, error);
      throw error;
    }
    reply.hijack();
    await relayAnthropicStream(reply.raw, responseHeaders(reply, context), start, context.record, facts);
    return reply;
  });
}

async function relayAnthropicStream(response: ServerResponse, headers: Record<string, string>, start: StreamStart, record: RequestRecord, facts: AnthropicRequestFacts): Promise<void> {
  response.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', connection: 'keep-alive' });
  record.status = 200;
  const translator = new AnthropicStreamTranslator(facts);
  let item = start.first;
  try {
    while (!item.done) {
      if (response.destroyed) break;
      const chunk = item.value.chunk;
      if (chunk.usage) {
        record.promptTokens = chunk.usage.prompt_tokens;
        record.completionTokens = chunk.usage.completion_tokens;
      }
      const events = translator.push(chunk);
      if (events.length > 0) {
        if (record.timeToFirstTokenMs === undefined && events.some((event) => event.event === 'content_block_delta')) {
          record.timeToFirstTokenMs = performance.now() - record.startedAt;
        }
        if (!response.write(events.map(encodeAnthropicEvent).join(''))) await drained(response);
      }
      item = await start.iterator.next();
    }
    if (!response.destroyed) response.end(translator.finish().map(encodeAnthropicEvent).join(''));
  } catch (error) {
    if (error instanceof CallAbortedError || response.destroyed) {
      response.destroy();
      return;
    }
    reportUpstreamError(record, error);
    const failure = toGatewayError(error);
    record.errorCode = failure.code;
    // The status line is gone: the failure travels as Anthropic's `error` event, never as a silent cut.
    response.end(encodeAnthropicEvent({ event: 'error', data: anthropicErrorBody(failure) }));
  } finally {
    if (!item.done) await start.iterator.return?.();
  }
}

/** Headers for the hijacked (streamed) reply: those already set, the pipeline's, and who served it. */
function responseHeaders(reply: FastifyReply, context: PipelineContext): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = String(value);
  Object.assign(headers, context.responseHeaders);
  if (context.record.provider) headers['x-breakwater-provider'] = context.record.provider;
  if (context.record.model) headers['x-breakwater-model'] = context.record.model;
  return headers;
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
