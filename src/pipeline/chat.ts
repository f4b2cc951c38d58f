// The terminal step of the request path: resolve the model, call the provider, hand back a result or a stream.
import { GatewayError } from '../core/errors.js';
import type { ChatRequest, EmbeddingsRequest } from '../core/types.js';
import type { EmbeddingsResult } from '../providers/types.js';
import type { ModelTable, Target } from '../routing/model-table.js';
import type { ChatOutcome, PipelineContext } from './context.js';
import { reportUpstreamError } from './upstream-errors.js';

export async function executeChat(models: ModelTable, request: ChatRequest, context: PipelineContext): Promise<ChatOutcome> {
  const target = resolve(models, request.model, context);
  const options = callOptions(target, context);
  try {
    if (request.stream === true) return { kind: 'stream', stream: await target.provider.chatStream(request, options) };
    const result = await target.provider.chat(request, options);
    const usage = result.completion.usage;
    if (usage) {
      context.record.promptTokens = usage.prompt_tokens;
      context.record.completionTokens = usage.completion_tokens;
    }
    return { kind: 'json', result };
  } catch (error) {
    reportUpstreamError(context.record, error);
    throw error;
  }
}

export async function executeEmbeddings(models: ModelTable, request: EmbeddingsRequest, context: PipelineContext): Promise<EmbeddingsResult> {
  const target = resolve(models, request.model, context);
  try {
    const result = await target.provider.embeddings(request, callOptions(target, context));
    context.record.promptTokens = result.response.usage?.prompt_tokens;
    return result;
  } catch (error) {
    reportUpstreamError(context.record, error);
    throw error;
  }
}

function resolve(models: ModelTable, model: string, context: PipelineContext): Target {
  const target = models.resolve(model);
  if (!target) {
    throw new GatewayError('BW_ERR_MODEL_NOT_FOUND', `The model \`${model}\` does not exist or is not served by this gateway (GET /v1/models lists them)`, {
      param: 'model',
      publicCode: 'model_not_found',
    });
  }
  context.record.model = target.model;
  context.record.modelLabel = models.isListed(target.model) ? target.model : 'other';
  context.record.provider = target.provider.name;
  return target;
}

function callOptions(target: Target, context: PipelineContext) {
  let forwardHeaders: Record<string, string> | undefined;
  for (const name of target.provider.forwardHeaderNames) {
    const value = context.clientHeaders[name];
    if (typeof value === 'string') (forwardHeaders ??= {})[name] = value;
  }
  return {
    signal: context.signal,
    requestId: context.record.requestId,
    upstreamModel: target.upstreamModel,
    ...(forwardHeaders ? { forwardHeaders } : {}),
  };
}
