// A cache hit calls no upstream, so it costs nothing: recorded in the ledger, billed at $0.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chat, chatBody, startCacheGateway } from '../cache/cache-gateway.js';

test('the miss is billed, the hit is free', async () => {
  const gateway = await startCacheGateway({ store: 'sqlite' });
  try {
    const body = chatBody('what does it cost twice');
    const miss = await chat(gateway, body);
    const hit = await chat(gateway, body);
    assert.equal(hit.headers.get('x-breakwater-cache'), 'hit');
    assert.ok(Number(miss.headers.get('x-breakwater-cost-usd')) > 0, 'the upstream call has a price');
    assert.equal(Number(hit.headers.get('x-breakwater-cost-usd')), 0);
  } finally {
    await gateway.close();
  }
});
