// The OpenAI-compatible API: /v1/chat/completions (JSON and SSE), /v1/embeddings, /v1/models.
import type { FastifyInstance } from 'fastify';
import { listingFields, type Catalogue } from '../../catalogue/catalogue.js';
import { GatewayError } from '../../core/errors.js';
import type { ChatRequest, EmbeddingsRequest } from '../../core/types.js';
import type { ChatOutcome, Handler } from '../../pipeline/context.js';
import { reportUpstreamError } from '../../pipeline/upstream-errors.js';
import { validateChatRequest, validateEmbeddingsRequest } from '../../pipeline/validate.js';
import type { EmbeddingsResult } from '../../providers/types.js';
import type { ModelTable } from '../../routing/model-table.js';
import { contextOf } from '../request-context.js';
import { openAIEncoder, relayStream, startStream, streamResponseHeaders } from '../sse.js';

export interface OpenAIRoutesOptions {
  models: ModelTable;
  maxMessages: number;
  chat: Handler<ChatRequest, ChatOutcome>;
  embeddings: Handler<EmbeddingsRequest, EmbeddingsResult>;
  /** Adds `context_window` / `max_output_tokens` to model listings when the catalogue knows the model. */
  catalogue?: Catalogue;
}

export function registerOpenAIRoutes(app: FastifyInstance, options: OpenAIRoutesOptions): void {
  const created = Math.floor(Date.now() / 1000);
  const limits = { maxMessages: options.maxMessages };

  app.post('/v1/chat/completions', async (request, reply) => {
    const body = validateChatRequest(request.body, limits);
    const context = contextOf(request);
    context.record.stream = body.stream === true;
    const outcome = await options.chat(body, context);
    if (outcome.kind === 'json') return reply.header('content-type', 'application/json').send(outcome.result.raw);
    let start;
    try {
      start = await startStream(outcome.stream);
    } catch (error) {
      reportUpstreamError(context.record, error);
      throw error;
    }
    reply.hijack();
    await relayStream(reply.raw, streamResponseHeaders(reply, context), start, context.record, openAIEncoder(body.stream_options?.include_usage === true));
    return reply;
  });

  app.post('/v1/embeddings', async (request, reply) => {
    const body = validateEmbeddingsRequest(request.body);
    const result = await options.embeddings(body, contextOf(request));
    return reply.header('content-type', 'application/json').send(result.raw);
  });

  app.get('/v1/models', async () => ({
    object: 'list',
    data: options.models.list().map((model) => ({ id: model.id, object: 'model', created, owned_by: model.ownedBy, ...listingFields(options.catalogue, model.id) })),
  }));

  app.get<{ Params: { model: string } }>('/v1/models/:model', async (request) => {
    const model = options.models.list().find((entry) => entry.id === request.params.model);
    if (!model) throw new GatewayError('BW_ERR_MODEL_NOT_FOUND', `The model \`${request.params.model}\` does not exist`, { param: 'model', publicCode: 'model_not_found' });
    return { id: model.id, object: 'model', created, owned_by: model.ownedBy, ...listingFields(options.catalogue, model.id) };
  });
}
