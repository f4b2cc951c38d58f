// A replica killed (SIGKILL) while its streaming request holds a budget reservation in Redis: the reservation blocks
// the shared budget only until its lease (deadline + margin) runs out, then another replica admits requests again.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connectTestRedis, testRedisUrl } from '../limits/redis-for-tests.js';
import { startReplica, type Replica } from './replicas-support.js';

// Worst case of one request (max_tokens 1000 at $1000 per million output tokens) is ~$1.00 of the $1.50 budget.
const yaml = (redisPrefix: string) => `
server: { drain_seconds: 1 }
logging: { level: info }
stores:
  sqlite: { path: "{{dir}}/breakwater.db" }
  redis: { url: "${testRedisUrl}", key_prefix: "${redisPrefix}", command_timeout_ms: 1000 }
limits: { decide_within_ms: 1000 }
reliability: { deadline: { default_ms: 2000, max_ms: 2000 } }
budgets:
  reservation_lease_margin_ms: 1000
  rules: [{ scope: global, period: day, cost_usd: 1.5 }]
accounting:
  prices:
    sim-fast: { input_per_million: 100, output_per_million: 1000 }
providers:
  - name: sim
    type: sim
    models: [sim-fast]
`;

const chat = (url: string, stream: boolean, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'sim-fast', max_tokens: 1000, stream, messages: [{ role: 'user', content: 'hold the budget' }] }),
  });

describe('a replica dying mid-request does not block a shared budget for the rest of the period', { timeout: 60_000 }, () => {
  let replicas: Replica[] = [];
  let skipped = false;

  before(async () => {
    const redis = await connectTestRedis();
    if (!redis) {
      skipped = true;
      return;
    }
    redis.disconnect();
    const config = yaml(`bw-test-lease-${randomUUID()}:`);
    replicas = await Promise.all([startReplica(config), startReplica(config)]);
  });

  after(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
  });

  test('the killed replica’s reservation lapses after its lease and the budget admits again', async (context) => {
    if (skipped) return context.skip('Redis is not running');
    const [doomed, survivor] = replicas as [Replica, Replica];
    // A slow stream: the reservation is held while tokens trickle.
    const held = await chat(doomed.url, true, { 'x-sim-latency': 'ttft=0;token=500' });
    assert.equal(held.status, 200);
    const reader = held.body?.getReader();
    await reader?.read();
    const refused = await chat(survivor.url, false);
    await refused.arrayBuffer();
    assert.equal(refused.status, 429, 'the held reservation counts on the other replica');

    doomed.process.kill('SIGKILL');
    await reader?.cancel().catch(() => undefined);

    // Poll (bounded) until the lease (2 s deadline + 1 s margin) has run out and the survivor admits.
    let admitted: Response | undefined;
    for (let attempt = 0; attempt < 80 && !admitted; attempt++) {
      const response = await chat(survivor.url, false);
      await response.arrayBuffer();
      if (response.status === 200) admitted = response;
      else {
        assert.equal(response.status, 429);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    assert.ok(admitted, 'the budget admits again once the dead replica’s lease ran out');
  });
});
