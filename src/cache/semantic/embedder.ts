// What the semantic cache needs from an embedder: text in, a unit vector out, and an id naming the vector space.
import type { CancelSignal } from '../../core/cancellation.js';
export interface Embedder {
  /** Names the vector space (kind, model, dimensions): vectors from different spaces are never compared. */
  readonly id: string;
  /** An L2-normalised vector for the text. */
  embed(text: string, signal?: CancelSignal): Promise<Float32Array>;
}

export function normalise(vector: Float32Array): Float32Array {
  let squares = 0;
  for (const value of vector) squares += value * value;
  if (squares === 0) {
    vector[0] = 1;
    return vector;
  }
  const norm = Math.sqrt(squares);
  for (let index = 0; index < vector.length; index++) vector[index] = (vector[index] ?? 0) / norm;
  return vector;
}
