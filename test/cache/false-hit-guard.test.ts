// The guard on the issue's own examples, with WordNet and in the offline (no lexicon) mode.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { checkFalseHit } from '../../src/cache/semantic/false-hit-guard.js';
import { guardInput } from '../../src/cache/semantic/semantic-text.js';
import { loadWordNet, type Lexicon } from '../../src/cache/semantic/wordnet.js';

describe('false-hit guard', () => {
  let lexicon: Lexicon | undefined;
  before(async () => {
    lexicon = await loadWordNet();
  });

  const verdict = (query: string, cached: string, withLexicon = true) => {
    const used = withLexicon ? lexicon : undefined;
    return checkFalseHit(guardInput(query, used), guardInput(cached, used), used);
  };

  for (const withLexicon of [true, false]) {
    it(`rejects flips of meaning ${withLexicon ? 'with WordNet' : 'offline, without WordNet'}`, () => {
      assert.equal(verdict('How do I disable X?', 'How do I enable X?', withLexicon), 'antonym');
      assert.equal(verdict('What was the price in 2024?', 'What was the price in 2023?', withLexicon), 'quantity');
      assert.equal(verdict("Why doesn't my build pass?", 'Why does my build pass?', withLexicon), 'negation');
      assert.equal(verdict('What is the capital of Germany?', 'What is the capital of France?', withLexicon), 'entity');
      assert.equal(verdict('Convert 30 degrees Fahrenheit to Celsius.', 'Convert 30 degrees Celsius to Fahrenheit.', withLexicon), 'entity');
      assert.equal(verdict('Is the museum open on Sunday?', 'Is the museum open on Monday?', withLexicon), 'quantity');
      assert.equal(verdict('How do I reset my router password?', 'How do I reset my password?', withLexicon), 'content');
    });
  }

  it('lets paraphrases through', () => {
    assert.equal(verdict('What is the way to reset my password?', 'How do I reset my password?'), undefined);
    assert.equal(verdict('How do I purchase a train ticket online?', 'How do I buy a train ticket online?'), undefined);
    assert.equal(verdict('How do I reverse a list in Python?', 'In Python, how do I reverse a list?'), undefined);
  });

  it('finds antonyms WordNet knows that the built-in list does not', () => {
    assert.ok(lexicon?.antonyms('strong')?.has('weak'));
    assert.equal(verdict('How do I make my coffee weaker?', 'How do I make my coffee stronger?'), 'antonym');
    assert.equal(verdict('Why is my dough so wet?', 'Why is my dough so dry?'), 'antonym');
  });
});
