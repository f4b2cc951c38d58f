// End to end: the semantic cache with a configured embeddings provider (here the simulator's /v1/embeddings, which
// is word hashing: reordered words embed alike) instead of the built-in embedder; and the guard still applies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestGateway } from '../helpers/gateway.js';
import { chat, chatBody, startCacheGateway } from '../cache/cache-gateway.js';

describe('semantic cache with a provider embedder', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startCacheGateway({ store: 'memory', semantic: { enabled: true, embedder: 'sim', embedding_model: 'sim-embed', threshold: 0.9 } });
  });
  after(() => gateway.close());

  it('embeds through the provider, hits on a rephrasing and refuses a flipped one', async () => {
    const embeddingsBefore = gateway.sim().stats().embeddings;
    assert.equal((await chat(gateway, chatBody('In Python, how do I reverse a list?'))).headers.get('x-breakwater-cache'), 'miss');
    const rephrased = await chat(gateway, chatBody('How do I reverse a list in Python?'));
    assert.equal(rephrased.headers.get('x-breakwater-cache'), 'semantic-hit');
    assert.ok(gateway.sim().stats().embeddings - embeddingsBefore >= 2);
    assert.equal((await chat(gateway, chatBody('In Python, how do I not reverse a list?'))).headers.get('x-breakwater-cache'), 'miss');
  });

  it('refuses to start with an unknown embeddings provider', async () => {
    await assert.rejects(startCacheGateway({ semantic: { enabled: true, embedder: 'nowhere', embedding_model: 'x' } }), /no provider named nowhere/);
  });
});
