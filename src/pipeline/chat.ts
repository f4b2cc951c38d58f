// The terminal step of the request path: resolve the model to its route, then let the fallback executor
// walk the route's candidates (breakers, retries, deadlines) and call the providers.
import { GatewayError } from '../core/errors.js';
import type { ChatRequest, EmbeddingsRequest } from '../core/types.js';
import type { EmbeddingsResult } from '../providers/types.js';
import type { FallbackExecutor } from '../reliability/executor.js';
import type { ModelTable, Route } from '../routing/model-table.js';
import type { ChatOutcome, Handler, PipelineContext } from './context.js';

export interface Terminal {
  chat: Handler<ChatRequest, ChatOutcome>;
  embeddings: Handler<EmbeddingsRequest, EmbeddingsResult>;
}

export function createTerminal(models: ModelTable, executor: FallbackExecutor): Terminal {
  return {
    chat: (request, context) => executor.chat(resolve(models, request.model, context), request, context),
    embeddings: (request, context) => executor.embeddings(resolve(models, request.model, context), request, context),
  };
}

function resolve(models: ModelTable, model: string, context: PipelineContext): Route {
  const route = models.resolve(model);
  if (!route || route.candidates.length === 0) {
    throw new GatewayError('BW_ERR_MODEL_NOT_FOUND', `The model \`${model}\` does not exist or is not served by this gateway (GET /v1/models lists them)`, {
      param: 'model',
      publicCode: 'model_not_found',
    });
  }
  context.record.model = route.model;
  context.record.modelLabel = models.isListed(route.model) ? route.model : 'other';
  return route;
}
