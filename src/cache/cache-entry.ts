// A cached answer: the completion (as the client would receive it in JSON), who produced it, when it expires,
// and, for semantic entries, the question and its vector so any replica can rebuild its index from the store.
import type { ChatCompletion } from '../core/types.js';

export interface SemanticRecord {
  /** Partition: tenant, model, conversation fingerprint and embedder; neighbours are searched only within it. */
  partition: string;
  /** The last user turn, as the guard needs it. */
  text: string;
  /** Base64 little-endian float32. */
  vector: string;
}

export interface CacheEntry {
  /** Version of this shape, so a replica running older code ignores entries it cannot read. */
  v: 1;
  key: string;
  namespace: string;
  /** Epoch milliseconds. */
  createdAt: number;
  expiresAt: number;
  /** The upstream JSON body (byte for byte when the miss was a JSON request; serialised when it was a stream). */
  raw: string;
  provider?: string;
  model?: string;
  modelLabel?: string;
  semantic?: SemanticRecord;
}

export function parseEntry(text: string): CacheEntry | undefined {
  try {
    const value = JSON.parse(text) as Partial<CacheEntry>;
    if (value.v !== 1 || typeof value.key !== 'string' || typeof value.raw !== 'string' || typeof value.expiresAt !== 'number') return undefined;
    return value as CacheEntry;
  } catch {
    return undefined;
  }
}

export function entryCompletion(entry: CacheEntry): ChatCompletion {
  return JSON.parse(entry.raw) as ChatCompletion;
}

export function vectorToBase64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

export function vectorFromBase64(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  // Copy into an aligned buffer: a Buffer slice may start at an offset Float32Array cannot view.
  const copy = new Uint8Array(bytes.byteLength - (bytes.byteLength % 4));
  copy.set(bytes.subarray(0, copy.byteLength));
  return new Float32Array(copy.buffer);
}
