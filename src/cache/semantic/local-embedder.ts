// The embedded, offline embedder: feature hashing of content words, their WordNet concepts (so synonyms land
// together), word pairs, numbers, names and negation. Lexical plus WordNet synonymy — not a neural model.
import { normalise, type Embedder } from './embedder.js';
import { analyse, type AnalysedText } from './text-analysis.js';
import type { Lexicon } from './wordnet.js';

const defaultDimensions = 512;

export class LocalEmbedder implements Embedder {
  readonly id: string;

  constructor(
    private readonly lexicon: Lexicon | undefined,
    private readonly dimensions = defaultDimensions,
  ) {
    // A replica without WordNet produces a different space; the id keeps the two apart in a shared store.
    this.id = `local:${lexicon ? 'wordnet31' : 'lexical'}:${dimensions}`;
  }

  embed(text: string): Promise<Float32Array> {
    return Promise.resolve(this.embedAnalysis(analyse(text, this.lexicon)));
  }

  embedAnalysis(analysis: AnalysedText): Float32Array {
    const vector = new Float32Array(this.dimensions);
    let previous: string | undefined;
    for (const word of analysis.words) {
      this.add(vector, `w:${word}`, 1);
      for (const concept of this.lexicon?.concepts(word) ?? []) this.add(vector, `c:${concept}`, 0.8);
      if (previous) this.add(vector, `b:${previous} ${word}`, 0.4);
      previous = word;
    }
    for (const quantity of analysis.quantities) this.add(vector, `q:${quantity}`, 0.7);
    for (const entity of analysis.entities) this.add(vector, `e:${entity}`, 0.7);
    if (analysis.negations % 2 === 1) this.add(vector, 'negated', 0.7);
    return normalise(vector);
  }

  private add(vector: Float32Array, feature: string, weight: number): void {
    const bucket = fnv1a(feature, 0x811c9dc5) % this.dimensions;
    // An independent hash picks the sign, so unrelated features sharing a bucket tend to cancel instead of add up.
    const sign = (fnv1a(feature, 0x9747b28c) & 1) === 0 ? 1 : -1;
    vector[bucket] = (vector[bucket] ?? 0) + sign * weight;
  }
}

function fnv1a(text: string, basis: number): number {
  let hash = basis;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
