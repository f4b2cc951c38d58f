// An embedder backed by a configured provider's OpenAI-compatible /v1/embeddings (OpenAI, vLLM, Ollama, TEI, the simulator).
import { randomUUID } from 'node:crypto';
import type { ProviderAdapter } from '../../providers/types.js';
import { vectorFromBase64 } from '../cache-entry.js';
import { normalise, type Embedder } from './embedder.js';
import { cancelAfter, type CancelSignal } from '../../core/cancellation.js';

export class ProviderEmbedder implements Embedder {
  readonly id: string;

  constructor(
    private readonly provider: ProviderAdapter,
    private readonly model: string,
    private readonly timeoutMs: number,
  ) {
    this.id = `provider:${provider.name}:${model}`;
  }

  async embed(text: string, signal?: CancelSignal): Promise<Float32Array> {
    const cancel = cancelAfter(this.timeoutMs, signal);
    let result;
    try {
      result = await this.provider.embeddings({ model: this.model, input: text }, { signal: cancel.signal, requestId: `cache-${randomUUID()}`, upstreamModel: this.model });
    } finally {
      cancel.dispose();
    }
    const embedding = result.response.data[0]?.embedding;
    if (embedding === undefined) throw new Error(`embeddings from ${this.provider.name} had no vector`);
    // Models differ in whether they normalise; cosine similarity needs unit vectors.
    return normalise(typeof embedding === 'string' ? vectorFromBase64(embedding) : Float32Array.from(embedding));
  }
}
