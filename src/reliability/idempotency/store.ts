// The idempotency store contract: claim a key, record the response, replay it; SQLite and Redis implement it.

/** What is kept of a successful response so a repeat can be answered byte for byte. */
export interface StoredResponse {
  kind: 'json' | 'stream';
  /** JSON: the body. Stream: one raw JSON text per SSE event, in order. */
  body: string | string[];
  provider?: string;
  model?: string;
}

export type BeginResult =
  | { state: 'acquired' }
  | { state: 'in-flight'; fingerprint: string }
  | { state: 'done'; fingerprint: string; response: StoredResponse };

export interface IdempotencyStore {
  /** Claims `key` for `fingerprint` (a lock that expires after lockTtlMs), or reports who holds it / what it answered. */
  begin(key: string, fingerprint: string, lockTtlMs: number): Promise<BeginResult>;
  /** Records the answer (kept ttlMs) — only if this fingerprint still holds the lock. */
  complete(key: string, fingerprint: string, response: StoredResponse, ttlMs: number): Promise<void>;
  /** Gives the key up without an answer (the request failed), so a retry can run. */
  release(key: string, fingerprint: string): Promise<void>;
  close(): Promise<void>;
}
