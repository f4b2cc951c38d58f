// Anthropic's Messages API in front (`POST /v1/messages`, JSON and SSE), served by any provider through the same chat pipeline.
import type { FastifyInstance } from 'fastify';
import type { ChatRequest } from '../../core/types.js';
import { translateAnthropicRequest } from '../../frontends/anthropic/request.js';
import { toAnthropicMessage } from '../../frontends/anthropic/response.js';
import { anthropicEncoder } from '../../frontends/anthropic/stream.js';
import type { ChatOutcome, Handler } from '../../pipeline/context.js';
import { reportUpstreamError } from '../../pipeline/upstream-errors.js';
import { validateChatRequest } from '../../pipeline/validate.js';
import { contextOf } from '../request-context.js';
import { relayStream, startStream, streamResponseHeaders, type StreamStart } from '../sse.js';

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
    await relayStream(reply.raw, streamResponseHeaders(reply, context), start, context.record, anthropicEncoder(facts));
    return reply;
  });
}
