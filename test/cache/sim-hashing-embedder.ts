// The simulator's embeddings (word feature hashing, src/sim/embeddings.ts) as an Embedder, to score the semantic
// cache with vectors that carry no meaning beyond shared words — the baseline the evaluation reports next to ours.
import type { Embedder } from '../../src/cache/semantic/embedder.js';
import { embedWords, wordsOf } from '../../src/sim/embeddings.js';

export class SimHashingEmbedder implements Embedder {
  readonly id = 'sim-hashing:256';

  embed(text: string): Promise<Float32Array> {
    return Promise.resolve(embedWords(wordsOf(text), 256));
  }
}
