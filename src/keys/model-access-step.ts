// Refuses a model the virtual key is not allowed to use (the key's `models` list), before any limit is spent.
import { GatewayError } from '../core/errors.js';
import type { ChatStep, EmbeddingsStep, PipelineContext } from '../pipeline/context.js';
import { keyRecordOf } from './principal-keys.js';

function check(context: PipelineContext, model: string): void {
  const allowed = keyRecordOf(context.principal)?.models;
  if (allowed && !allowed.includes(model)) {
    throw new GatewayError('BW_ERR_MODEL_NOT_ALLOWED', `This key may not use the model \`${model}\` (allowed: ${allowed.join(', ')})`, { param: 'model', publicCode: 'model_not_allowed' });
  }
}

export const modelAccessChatStep: ChatStep = async (request, context, next) => {
  check(context, request.model);
  return next(request);
};

export const modelAccessEmbeddingsStep: EmbeddingsStep = async (request, context, next) => {
  check(context, request.model);
  return next(request);
};
