// The provider adapter contract: canonical requests in, canonical results or streams out. No web framework here.
import type { ChatCompletion, ChatRequest, EmbeddingsRequest, EmbeddingsResponse, StreamChunk } from '../core/types.js';
import type { CancelSignal } from '../core/cancellation.js';

export interface CallOptions {
  /** Aborted when the client goes away or the request's deadline passes. */
  signal: CancelSignal;
  requestId: string;
  /** Model name to send upstream (the public name already resolved). */
  upstreamModel: string;
  /** Client headers this provider is allowed to receive (e.g. the simulator's fault headers). */
  forwardHeaders?: Record<string, string>;
}

export interface ChatResult {
  completion: ChatCompletion;
  /** The upstream body exactly as received, relayed to the client unchanged when possible. */
  raw: string;
}

export interface EmbeddingsResult {
  response: EmbeddingsResponse;
  raw: string;
}

export interface ProviderAdapter {
  /** Instance name from the config (`sim`, `openai`, `local-vllm`). */
  readonly name: string;
  readonly type: string;
  /** Client header names (lower case) this adapter wants forwarded to it. */
  readonly forwardHeaderNames: readonly string[];
  /** Resolves once the adapter can serve (the in-process simulator has to start its server). */
  start(): Promise<void>;
  chat(request: ChatRequest, options: CallOptions): Promise<ChatResult>;
  /** Resolves once the upstream has accepted the stream (headers received): failures before that reject here. */
  chatStream(request: ChatRequest, options: CallOptions): Promise<AsyncIterable<StreamChunk>>;
  embeddings(request: EmbeddingsRequest, options: CallOptions): Promise<EmbeddingsResult>;
  close(): Promise<void>;
}
