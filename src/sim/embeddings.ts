// Simulated embeddings: deterministic vectors by feature hashing, so tests can check similarity without a model.

import type { EmbeddingsResponse } from '../core/types.js';
import { fnv1a32 } from './deterministic-random.js';
import { SimRequestError } from './error-envelope.js';

export const defaultDimensions = 256;
const maximumDimensions = 4096;
const wordPattern = /[\p{L}\p{N}]+/gu;
// A second, independent hash decides each word's sign, which keeps unrelated words from adding up in one bucket.
const signHashBasis = 0x9747b28c;

/**
 * Feature hashing of lower-cased word tokens, L2-normalised. Texts that share words point in
 * similar directions, so cosine similarity reflects word overlap — lexical meaning only: synonyms
 * and paraphrases do not come out close the way they would with a real embedding model.
 */
export function embedWords(words: readonly string[], dimensions: number): Float32Array {
  const sums = new Float64Array(dimensions);
  for (const word of words) {
    const bucket = fnv1a32(word) % dimensions;
    sums[bucket] = (sums[bucket] ?? 0) + ((fnv1a32(word, signHashBasis) & 1) === 0 ? 1 : -1);
  }
  let squares = 0;
  for (const value of sums) squares += value * value;
  const vector = new Float32Array(dimensions);
  // A text with no words (or whose words cancel out) still gets a unit vector, as real models never return zeros.
  if (squares === 0) {
    vector[0] = 1;
    return vector;
  }
  const norm = Math.sqrt(squares);
  for (let index = 0; index < dimensions; index++) vector[index] = (sums[index] ?? 0) / norm;
  return vector;
}

export function wordsOf(text: string): string[] {
  return text.toLowerCase().match(wordPattern) ?? [];
}

/** Splits `input` into per-item word lists; token-id arrays become words like `token:42`, one token each. */
function inputWordLists(input: unknown): string[][] {
  const invalid = new SimRequestError(400, "Invalid 'input': expected a string, an array of strings, or token arrays.", { param: 'input', code: 'invalid_value' });
  const tokenWords = (tokens: unknown[]): string[] =>
    tokens.map((token) => {
      if (typeof token !== 'number' || !Number.isInteger(token)) throw invalid;
      return `token:${token}`;
    });
  if (typeof input === 'string') return [wordsOf(input)];
  if (!Array.isArray(input) || input.length === 0) throw invalid;
  if (input.every((item) => typeof item === 'number')) return [tokenWords(input)];
  return input.map((item: unknown) => {
    if (typeof item === 'string') return wordsOf(item);
    if (Array.isArray(item)) return tokenWords(item);
    throw invalid;
  });
}

function vectorBase64(vector: Float32Array): string {
  // OpenAI's base64 format is the little-endian float32 bytes; Node only runs on little-endian hosts in practice.
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

export function renderEmbeddings(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SimRequestError(400, 'The request body must be a JSON object.', { code: 'invalid_body' });
  }
  const request = body as Record<string, unknown>;
  if (typeof request.model !== 'string' || request.model === '') {
    throw new SimRequestError(400, "Missing required parameter: 'model'.", { param: 'model', code: 'missing_required_parameter' });
  }
  if (request.input === undefined) {
    throw new SimRequestError(400, "Missing required parameter: 'input'.", { param: 'input', code: 'missing_required_parameter' });
  }
  const format = request.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    throw new SimRequestError(400, "Invalid 'encoding_format': expected 'float' or 'base64'.", { param: 'encoding_format', code: 'invalid_value' });
  }
  const dimensions = request.dimensions ?? defaultDimensions;
  if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > maximumDimensions) {
    throw new SimRequestError(400, `Invalid 'dimensions': expected an integer from 1 to ${maximumDimensions}.`, { param: 'dimensions', code: 'invalid_value' });
  }

  let promptTokens = 0;
  const data = inputWordLists(request.input).map((words, index) => {
    promptTokens += words.length;
    const vector = embedWords(words, dimensions);
    const embedding = format === 'base64' ? vectorBase64(vector) : Array.from(vector);
    return { object: 'embedding' as const, index, embedding };
  });
  const response: EmbeddingsResponse = {
    object: 'list',
    data,
    model: request.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
  return JSON.stringify(response);
}
