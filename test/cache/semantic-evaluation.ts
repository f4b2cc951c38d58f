// Scores the semantic cache on the labelled pairs (test/cache/fixtures/semantic-pairs.tsv): every cached question goes
// into one shared index, every new question is looked up, and a hit counts as correct only if it found its own pair.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Embedder } from '../../src/cache/semantic/embedder.js';
import { checkFalseHit, type GuardRejection } from '../../src/cache/semantic/false-hit-guard.js';
import { guardInput } from '../../src/cache/semantic/semantic-text.js';
import { VectorIndex } from '../../src/cache/semantic/vector-index.js';
import type { Lexicon } from '../../src/cache/semantic/wordnet.js';

export interface LabelledPair {
  label: 'hit' | 'miss';
  category: string;
  cached: string;
  query: string;
}

export interface Scores {
  threshold: number;
  guard: boolean;
  paraphrases: number;
  nearMisses: number;
  correctHits: number;
  /** Hits that served some other question's answer (a near-miss pair, or a paraphrase landing on the wrong entry). */
  falseHits: number;
  /** correct / all hits. */
  precision: number;
  /** correct paraphrase hits / paraphrases. */
  recall: number;
  /** Share of must-not-hit questions that were (rightly) not served a cached answer. */
  nearMissRejected: number;
  rejectionsByReason: Partial<Record<GuardRejection, number>>;
  falseHitExamples: string[];
}

export function loadPairs(): LabelledPair[] {
  const path = fileURLToPath(new URL('./fixtures/semantic-pairs.tsv', import.meta.url));
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const [label, category, cached, query] = line.split('\t');
      if ((label !== 'hit' && label !== 'miss') || !category || !cached || !query) throw new Error(`bad pair line: ${line}`);
      return { label, category, cached, query };
    });
}

export async function score(pairs: readonly LabelledPair[], embedder: Embedder, lexicon: Lexicon | undefined, threshold: number, guard: boolean): Promise<Scores> {
  const index = new VectorIndex(pairs.length + 1);
  const cachedTexts = new Map<string, string>();
  for (const pair of pairs) {
    if (cachedTexts.has(pair.cached)) continue;
    cachedTexts.set(pair.cached, pair.cached);
    index.add({ key: pair.cached, partition: 'p', vector: await embedder.embed(pair.cached), text: pair.cached, expiresAt: Number.POSITIVE_INFINITY });
  }
  const scores: Scores = { threshold, guard, paraphrases: 0, nearMisses: 0, correctHits: 0, falseHits: 0, precision: 1, recall: 0, nearMissRejected: 0, rejectionsByReason: {}, falseHitExamples: [] };
  let rejectedNearMisses = 0;
  for (const pair of pairs) {
    if (pair.label === 'hit') scores.paraphrases++;
    else scores.nearMisses++;
    const neighbours = index.search('p', await embedder.embed(pair.query), threshold, 5);
    let served: string | undefined;
    for (const neighbour of neighbours) {
      if (!guard) {
        served = neighbour.entry.key;
        break;
      }
      const rejection = checkFalseHit(guardInput(pair.query, lexicon), guardInput(neighbour.entry.text, lexicon), lexicon);
      if (rejection === undefined) {
        served = neighbour.entry.key;
        break;
      }
      scores.rejectionsByReason[rejection] = (scores.rejectionsByReason[rejection] ?? 0) + 1;
    }
    if (served === undefined) {
      if (pair.label === 'miss') rejectedNearMisses++;
      continue;
    }
    if (pair.label === 'hit' && served === pair.cached) scores.correctHits++;
    else {
      scores.falseHits++;
      if (scores.falseHitExamples.length < 40) scores.falseHitExamples.push(`${pair.label}/${pair.category}: "${pair.query}" → "${served}"`);
    }
  }
  const hits = scores.correctHits + scores.falseHits;
  scores.precision = hits === 0 ? 1 : scores.correctHits / hits;
  scores.recall = scores.correctHits / scores.paraphrases;
  scores.nearMissRejected = rejectedNearMisses / scores.nearMisses;
  return scores;
}
