// End to end against the local Redis: two gateway replicas sharing the cache (exact and semantic), a third started
// after the writes that warms its semantic index from Redis, and a purge through one replica seen by the others.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TestGateway } from '../helpers/gateway.js';
import { chat, chatBody, startCacheGateway } from '../cache/cache-gateway.js';

const cacheSettings = { store: 'redis', semantic: { enabled: true } };

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000; // generous: a loaded CI machine; the poll returns as soon as it holds
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const semanticSize = (gateway: TestGateway) => gateway.gateway.cache?.cache.semantic?.index.size ?? 0;

describe('cache shared by replicas through Redis', () => {
  const raw = { stores: { redis: { url: 'redis://127.0.0.1:6379', key_prefix: `bwtest:${randomUUID()}:`, command_timeout_ms: 1_000 } } };
  const started: TestGateway[] = [];
  let first: TestGateway;
  let second: TestGateway;
  before(async () => {
    first = await startCacheGateway(cacheSettings, raw);
    second = await startCacheGateway(cacheSettings, raw);
    started.push(first, second);
  });
  after(async () => {
    for (const gateway of started) await gateway.close();
  });

  it('serves through one replica what was written through the other, exactly and semantically', async () => {
    const written = await chat(first, chatBody('How do I reset my password?'));
    assert.equal(written.headers.get('x-breakwater-cache'), 'miss');
    const exact = await chat(second, chatBody('How do I reset my password?'));
    assert.equal(exact.headers.get('x-breakwater-cache'), 'hit');
    assert.equal(exact.text, written.text);

    await waitFor(() => semanticSize(second) >= 1, 'the announcement to reach the second replica');
    const paraphrase = await chat(second, chatBody('What is the way to reset my password?'));
    assert.equal(paraphrase.headers.get('x-breakwater-cache'), 'semantic-hit');
    assert.equal(paraphrase.text, written.text);
    assert.ok(Number(paraphrase.headers.get('x-breakwater-cache-similarity')) >= 0.8);

    const negated = await chat(second, chatBody('How do I not reset my password?'));
    assert.equal(negated.headers.get('x-breakwater-cache'), 'miss', 'the guard rejects a negation flip');
  });

  it('warms a replica started after the write from Redis', async () => {
    await chat(first, chatBody('How can I change my email address?'));
    const late = await startCacheGateway(cacheSettings, raw);
    started.push(late);
    assert.ok(semanticSize(late) >= 2, 'the index was warmed before the replica served');
    const exact = await chat(late, chatBody('How can I change my email address?'));
    assert.equal(exact.headers.get('x-breakwater-cache'), 'hit');
    const paraphrase = await chat(late, chatBody('How do I change my email address?'));
    assert.equal(paraphrase.headers.get('x-breakwater-cache'), 'semantic-hit');
    assert.equal(late.sim().stats().chat, 0, 'the late replica never called upstream');
  });

  it('purges through one replica for all of them', async () => {
    const body = chatBody('purge me everywhere', { temperature: 0 });
    await chat(first, body);
    assert.equal((await chat(second, body)).headers.get('x-breakwater-cache'), 'hit');
    const purge = await fetch(`${first.url}/admin/cache?namespace=default`, { method: 'DELETE' });
    assert.equal(purge.status, 200);
    const purged = (await purge.json()) as { purged: { store: number } };
    assert.ok(purged.purged.store >= 1);
    await waitFor(() => semanticSize(second) === 0, 'the purge to reach the second replica');
    assert.equal((await chat(second, body)).headers.get('x-breakwater-cache'), 'miss');
  });
});
