// The semantic cache: embeds the last user turn, finds the nearest cached questions in the same partition (tenant,
// model, conversation fingerprint, embedder) above the threshold, and lets the false-hit guard veto each one.
import type { CacheEntry } from '../cache-entry.js';
import { vectorFromBase64, vectorToBase64 } from '../cache-entry.js';
import type { Embedder } from './embedder.js';
import { checkFalseHit, type GuardRejection } from './false-hit-guard.js';
import { guardInput } from './semantic-text.js';
import { VectorIndex } from './vector-index.js';
import type { Lexicon } from './wordnet.js';
import type { CancelSignal } from '../../core/cancellation.js';

export interface SemanticSettings {
  threshold: number;
  guard: boolean;
  maxEntries: number;
  maxCandidates: number;
  maxQueryCharacters: number;
}

export interface PreparedQuery {
  text: string;
  partition: string;
  vector: Float32Array;
}

export interface SemanticLookup {
  /** The exact-cache key of the answer to serve, when a neighbour passed. */
  key?: string;
  similarity?: number;
  /** Best similarity seen, hit or not (for the log line). */
  bestSimilarity?: number;
  rejections: GuardRejection[];
}

export class SemanticCache {
  readonly index: VectorIndex;

  constructor(
    private readonly embedder: Embedder,
    private readonly lexicon: Lexicon | undefined,
    private readonly settings: SemanticSettings,
    now: () => number = Date.now,
  ) {
    this.index = new VectorIndex(settings.maxEntries, now);
  }

  /** Embeds the question; undefined when it is too long for the semantic cache. Embedding failures reject. */
  async prepare(text: string, scope: string, signal: CancelSignal): Promise<PreparedQuery | undefined> {
    if (text.length === 0 || text.length > this.settings.maxQueryCharacters) return undefined;
    const vector = await this.embedder.embed(text, signal);
    return { text, partition: `${scope}\u0000${this.embedder.id}`, vector };
  }

  find(query: PreparedQuery): SemanticLookup {
    const neighbours = this.index.search(query.partition, query.vector, this.settings.threshold, this.settings.maxCandidates);
    const lookup: SemanticLookup = { rejections: [] };
    if (neighbours[0]) lookup.bestSimilarity = neighbours[0].similarity;
    const asked = this.settings.guard ? guardInput(query.text, this.lexicon) : undefined;
    for (const { entry, similarity } of neighbours) {
      const rejection = asked ? checkFalseHit(asked, guardInput(entry.text, this.lexicon), this.lexicon) : undefined;
      if (rejection) {
        lookup.rejections.push(rejection);
        continue;
      }
      lookup.key = entry.key;
      lookup.similarity = similarity;
      break;
    }
    return lookup;
  }

  record(query: PreparedQuery): CacheEntry['semantic'] {
    return { partition: query.partition, text: query.text, vector: vectorToBase64(query.vector) };
  }

  /** Indexes a stored entry (own, announced by another replica, or read at warm-up); other embedders' entries are skipped. */
  add(entry: CacheEntry): boolean {
    const semantic = entry.semantic;
    if (!semantic || !semantic.partition.endsWith(`\u0000${this.embedder.id}`)) return false;
    this.index.add({ key: entry.key, partition: semantic.partition, vector: vectorFromBase64(semantic.vector), text: semantic.text, expiresAt: entry.expiresAt });
    return true;
  }
}
