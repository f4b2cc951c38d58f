// The OpenAI-compatible API: /v1/chat/completions (JSON and SSE), /v1/embeddings, /v1/models.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../../core/errors.js';
import { executeChat, executeEmbeddings, type PipelineContext } from '../../pipeline/chat.js';
import { reportUpstreamError } from '../../pipeline/upstream-errors.js';
import { validateChatRequest, validateEmbeddingsRequest } from '../../pipeline/validate.js';
import type { ModelTable } from '../../routing/model-table.js';
import { relayStream, startStream } from '../sse.js';
import { recordOf } from '../request-record.js';

export interface OpenAIRoutesOptions {
  models: ModelTable;
  maxMessages: number;
}

export function registerOpenAIRoutes(app: FastifyInstance, options: OpenAIRoutesOptions): void {
  const created = Math.floor(Date.now() / 1000);
  const limits = { maxMessages: options.maxMessages };

  app.post('/v1/chat/completions', async (request, reply) => {
    const body = validateChatRequest(request.body, limits);
    const context = pipelineContext(request, reply, options.models);
    context.record.stream = body.stream === true;
    const outcome = await executeChat(body, context);
    if (outcome.kind === 'json') return reply.header('content-type', 'application/json').send(outcome.result.raw);
    let start;
    try {
      start = await startStream(outcome.stream);
    } catch (error) {
      reportUpstreamError(context.record, error);
      throw error;
    }
    reply.hijack();
    const headers = responseHeaders(reply, context);
    await relayStream(reply.raw, headers, start, context.record, body.stream_options?.include_usage === true);
    return reply;
  });

  app.post('/v1/embeddings', async (request, reply) => {
    const body = validateEmbeddingsRequest(request.body);
    const result = await executeEmbeddings(body, pipelineContext(request, reply, options.models));
    return reply.header('content-type', 'application/json').send(result.raw);
  });

  app.get('/v1/models', async () => ({
    object: 'list',
    data: options.models.list().map((model) => ({ id: model.id, object: 'model', created, owned_by: model.ownedBy })),
  }));

  app.get<{ Params: { model: string } }>('/v1/models/:model', async (request) => {
    const model = options.models.list().find((entry) => entry.id === request.params.model);
    if (!model) throw new GatewayError('BW_ERR_MODEL_NOT_FOUND', `The model \`${request.params.model}\` does not exist`, { param: 'model', publicCode: 'model_not_found' });
    return { id: model.id, object: 'model', created, owned_by: model.ownedBy };
  });
}

function pipelineContext(request: FastifyRequest, reply: FastifyReply, models: ModelTable): PipelineContext {
  const controller = new AbortController();
  // A client that goes away aborts the upstream call at once (the response's socket closes before it finished).
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return { models, record: recordOf(request), signal: controller.signal, clientHeaders: request.headers };
}

function responseHeaders(reply: FastifyReply, context: PipelineContext): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = String(value);
  if (context.record.provider) headers['x-breakwater-provider'] = context.record.provider;
  if (context.record.model) headers['x-breakwater-model'] = context.record.model;
  return headers;
}
