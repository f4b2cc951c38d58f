// Bedrock embeddings through InvokeModel: Amazon Titan (one text per call) and Cohere Embed (batches), answered in OpenAI's shape.
import { GatewayError } from '../../core/errors.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.js';

/** One InvokeModel call: the body to send and how to read its answer. */
export interface EmbeddingsCall {
  body: string;
  /** The texts' positions in the request's input. */
  indices: number[];
}

export interface EmbeddingsAnswer {
  vectors: number[][];
  tokens: number;
}

export interface EmbeddingsFamily {
  calls(texts: string[], request: EmbeddingsRequest): EmbeddingsCall[];
  read(body: unknown, headers: Record<string, string | string[] | undefined>, expected: number): EmbeddingsAnswer | undefined;
}

// Cohere Embed takes at most 96 texts per call.
const cohereBatch = 96;

const titan: EmbeddingsFamily = {
  calls(texts, request) {
    return texts.map((text, index) => ({
      body: JSON.stringify({ inputText: text, ...(typeof request.dimensions === 'number' ? { dimensions: request.dimensions } : {}) }),
      indices: [index],
    }));
  },
  read(body) {
    const answer = body as { embedding?: unknown; inputTextTokenCount?: unknown };
    if (!isVector(answer.embedding)) return undefined;
    return { vectors: [answer.embedding], tokens: typeof answer.inputTextTokenCount === 'number' ? answer.inputTextTokenCount : 0 };
  },
};

const cohere: EmbeddingsFamily = {
  calls(texts) {
    const calls: EmbeddingsCall[] = [];
    for (let start = 0; start < texts.length; start += cohereBatch) {
      const batch = texts.slice(start, start + cohereBatch);
      calls.push({ body: JSON.stringify({ texts: batch, input_type: 'search_document' }), indices: batch.map((_text, offset) => start + offset) });
    }
    return calls;
  },
  read(body, headers, expected) {
    const answer = body as { embeddings?: unknown };
    const vectors = Array.isArray(answer.embeddings) ? answer.embeddings : (answer.embeddings as { float?: unknown } | undefined)?.float;
    if (!Array.isArray(vectors) || vectors.length !== expected || !vectors.every(isVector)) return undefined;
    // Cohere on Bedrock reports its token count only in a response header.
    const header = headers['x-amzn-bedrock-input-token-count'];
    const tokens = Number(Array.isArray(header) ? header[0] : header);
    return { vectors: vectors as number[][], tokens: Number.isFinite(tokens) ? tokens : 0 };
  },
};

function isVector(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'number');
}

export function embeddingsFamily(modelId: string): EmbeddingsFamily {
  const bare = modelId.replace(/^(?:us|eu|apac|global)\./, '');
  if (bare.startsWith('amazon.titan-embed')) return titan;
  if (bare.startsWith('cohere.embed')) return cohere;
  throw new GatewayError('BW_ERR_INVALID_REQUEST', `model: ${modelId} is not a Bedrock embeddings model this gateway supports (Amazon Titan Embed, Cohere Embed)`, { param: 'model' });
}

export function embeddingTexts(request: EmbeddingsRequest): string[] {
  if (typeof request.input === 'string') return [request.input];
  if (Array.isArray(request.input) && request.input.every((item) => typeof item === 'string')) return request.input as string[];
  throw new GatewayError('BW_ERR_INVALID_REQUEST', 'input: Bedrock embeddings take text, not token arrays', { param: 'input' });
}

/** OpenAI's `base64` encoding: the little-endian float32 bytes of each vector. */
function base64Vector(vector: number[]): string {
  const floats = new Float32Array(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

export function toEmbeddingsResponse(request: EmbeddingsRequest, vectors: number[][], tokens: number): EmbeddingsResponse {
  const base64 = request.encoding_format === 'base64';
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({ object: 'embedding', index, embedding: base64 ? base64Vector(vector) : vector })),
    model: request.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
