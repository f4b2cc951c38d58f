// OpenAI embeddings request ↔ Gemini batchEmbedContents: one request per input text, vectors back in the OpenAI shape.
import { GatewayError } from '../../core/errors.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.js';

interface BatchEmbedRequest {
  requests: Array<{ model: string; content: { parts: Array<{ text: string }> }; outputDimensionality?: number }>;
}

export interface BatchEmbedResponse {
  embeddings: Array<{ values: number[] }>;
}

export function batchEmbedBody(request: EmbeddingsRequest, upstreamModel: string): BatchEmbedRequest {
  const inputs = typeof request.input === 'string' ? [request.input] : request.input;
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((item): item is string => typeof item === 'string')) {
    throw new GatewayError('BW_ERR_INVALID_REQUEST', 'Gemini embeds text only: input must be a string or an array of strings (not token ids)', { param: 'input' });
  }
  const model = upstreamModel.startsWith('models/') ? upstreamModel : `models/${upstreamModel}`;
  return {
    requests: inputs.map((text) => ({
      model,
      content: { parts: [{ text }] },
      ...(typeof request.dimensions === 'number' ? { outputDimensionality: request.dimensions } : {}),
    })),
  };
}

export function isBatchEmbedResponse(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Array.isArray((value as { embeddings?: unknown }).embeddings);
}

function base64Vector(values: readonly number[]): string {
  const vector = Float32Array.from(values);
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

/**
 * Gemini reports no token counts for embeddings; usage is estimated at four characters a token so that
 * accounting and limits still see a cost (documented as an estimate in the README).
 */
export function embeddingsFromGemini(response: BatchEmbedResponse, request: EmbeddingsRequest, upstreamModel: string): EmbeddingsResponse {
  const inputs = typeof request.input === 'string' ? [request.input] : (request.input as string[]);
  const tokens = inputs.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
  return {
    object: 'list',
    data: response.embeddings.map((embedding, index) => ({
      object: 'embedding' as const,
      index,
      embedding: request.encoding_format === 'base64' ? base64Vector(embedding.values) : embedding.values,
    })),
    model: upstreamModel,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
