// The request path for chat completions and embeddings: resolve the model, call the provider, hand back a result or a stream.
import { GatewayError } from '../core/errors.js';
import type { ChatRequest, EmbeddingsRequest, StreamChunk } from '../core/types.js';
import type { RequestRecord } from '../observability/events.js';
import type { ChatResult, EmbeddingsResult } from '../providers/types.js';
import type { ModelTable, Target } from '../routing/model-table.js';
import { reportUpstreamError } from './upstream-errors.js';

export interface PipelineContext {
  models: ModelTable;
  record: RequestRecord;
  /** Aborted when the client disconnects. */
  signal: AbortSignal;
  clientHeaders: Record<string, string | string[] | undefined>;
}

export type ChatOutcome = { kind: 'json'; result: ChatResult } | { kind: 'stream'; stream: AsyncIterable<StreamChunk> };

export async function executeChat(request: ChatRequest, context: PipelineContext): Promise<ChatOutcome> {
  const target = resolve(request.model, context);
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

export async function executeEmbeddings(request: EmbeddingsRequest, context: PipelineContext): Promise<EmbeddingsResult> {
  const target = resolve(request.model, context);
  try {
    const result = await target.provider.embeddings(request, callOptions(target, context));
    context.record.promptTokens = result.response.usage?.prompt_tokens;
    return result;
  } catch (error) {
    reportUpstreamError(context.record, error);
    throw error;
  }
}

function resolve(model: string, context: PipelineContext): Target {
  const target = context.models.resolve(model);
  if (!target) {
    throw new GatewayError('BW_ERR_MODEL_NOT_FOUND', `The model \`${model}\` does not exist or is not served by this gateway (GET /v1/models lists them)`, {
      param: 'model',
      publicCode: 'model_not_found',
    });
  }
  context.record.model = target.model;
  context.record.modelLabel = context.models.isListed(target.model) ? target.model : 'other';
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
