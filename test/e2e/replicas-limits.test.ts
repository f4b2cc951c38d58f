// Three gateway processes sharing Redis and PostgreSQL: one key's 100 requests/min and one key's $1.00 daily budget
// hold across replicas under 1,000 concurrent requests; the ledger holds every request and sums to the reported
// costs; each budget alert fires once in total; a revoked key is refused everywhere within 2 s.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createTestSchema, type TestSchema } from '../accounting/postgres-for-tests.js';
import { connectTestRedis, testRedisUrl } from '../limits/redis-for-tests.js';
import { logLines, startReplica, type Replica } from './replicas-support.js';

const master = 'master-key-for-replica-tests-0123456789';

function configYaml(postgresUrl: string, redisPrefix: string): string {
  return `
server: { drain_seconds: 2 }
auth: { master_key: ${master} }
logging: { level: info }
stores:
  sqlite: { path: "{{dir}}/breakwater.db" }
  redis: { url: "${testRedisUrl}", key_prefix: "${redisPrefix}", command_timeout_ms: 1000 }
  postgres: { url: "${postgresUrl}", max_connections: 5 }
limits: { decide_within_ms: 1000 }
accounting:
  ledger: { flush_interval_ms: 100 }
  prices:
    sim-fast: { input_per_million: 100, output_per_million: 1000 }
providers:
  - name: sim
    type: sim
    models: [sim-fast]
`;
}

interface Answer {
  status: number;
  cost: number | undefined;
  retryAfter: string | null;
}

describe('three replicas sharing Redis and PostgreSQL', { timeout: 90_000 }, () => {
  let schema: TestSchema | undefined;
  let replicas: Replica[] = [];
  let skipped = false;

  before(async () => {
    const redis = await connectTestRedis();
    schema = await createTestSchema('replicas');
    if (!redis || !schema) {
      skipped = true;
      return;
    }
    redis.disconnect();
    const yaml = configYaml(schema.url, `bw-test-replicas-${randomUUID()}:`);
    replicas = await Promise.all([startReplica(yaml), startReplica(yaml), startReplica(yaml)]);
  });

  after(async () => {
    if (process.env.BW_DEBUG_REPLICAS) for (const replica of replicas) console.log(logLines(replica).filter((line) => Number(line.level) >= 40).slice(0, 20).map((line) => JSON.stringify(line)).join('\n'));
    await Promise.all(replicas.map((replica) => replica.stop()));
    await schema?.drop();
  });

  const admin = async (replica: Replica, path: string, body?: unknown, method = body ? 'POST' : 'GET') => {
    const response = await fetch(`${replica.url}${path}`, { method, headers: { authorization: `Bearer ${master}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  const ask = async (replica: Replica, key: string, index: number): Promise<Answer> => {
    const response = await fetch(`${replica.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-fast', max_tokens: 8, messages: [{ role: 'user', content: `request number ${index}` }] }),
    });
    await response.arrayBuffer();
    const cost = response.headers.get('x-breakwater-cost-usd');
    return { status: response.status, cost: cost === null ? undefined : Number(cost), retryAfter: response.headers.get('retry-after') };
  };

  const spendOf = async (keyId: string, expectedRequests: number) => {
    // Each replica flushes its own batch; wait until the three have written everything.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const report = await admin(replicas[0] as Replica, '/admin/spend?group_by=key');
      const row = (report.json.data as Array<{ group: string; requests: number; cost_usd: number }>).find((entry) => entry.group === keyId);
      if ((row && row.requests >= expectedRequests) || Date.now() > deadline) return row;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  test('1,000 concurrent requests against 100 requests/min: accepted ≤ limit + burst across replicas; every one in the ledger', async (context) => {
    if (skipped) return context.skip('Redis or PostgreSQL is not running');
    const created = await admin(replicas[0] as Replica, '/admin/keys', { rpm: 100 });
    assert.equal(created.status, 201);
    const key = created.json.key as string;
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 1_000 }, (_unused, index) => ask(replicas[index % 3] as Replica, key, index)));
    const elapsedMinutes = (Date.now() - started) / 60_000;
    const accepted = answers.filter((answer) => answer.status === 200).length;
    const limited = answers.filter((answer) => answer.status === 429);
    assert.equal(accepted + limited.length, 1_000, 'every request was either served or refused with 429');
    // Bucket of 100 (burst = rpm by default) refilling at 100/min during the run.
    assert.ok(accepted >= 100, `the full burst was served (${accepted})`);
    assert.ok(accepted <= 100 + Math.ceil(100 * elapsedMinutes) + 1, `accepted ${accepted} in ${(elapsedMinutes * 60).toFixed(1)} s: not limit × replicas`);
    assert.ok(accepted <= 200, 'never more than limit + burst');
    assert.ok(limited.every((answer) => Number(answer.retryAfter) >= 1), 'every 429 says when to retry');
    const row = await spendOf(created.json.id as string, 1_000);
    assert.equal(row?.requests, 1_000, 'the ledger holds every request, served or refused');
  });

  test('$1.00 daily budget with ~$0.01 requests: spend stays within the budget; ledger = reported costs; each alert once', async (context) => {
    if (skipped) return context.skip('Redis or PostgreSQL is not running');
    const created = await admin(replicas[1] as Replica, '/admin/keys', { budgets: [{ period: 'day', cost_usd: 1 }] });
    assert.equal(created.status, 201);
    const key = created.json.key as string;
    const keyId = created.json.id as string;
    const answers = await Promise.all(Array.from({ length: 300 }, (_unused, index) => ask(replicas[index % 3] as Replica, key, index)));
    const served = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.status === 429);
    assert.equal(served.length + refused.length, 300);
    assert.ok(refused.length > 0, 'the budget ran out');
    const reported = served.reduce((sum, answer) => sum + (answer.cost ?? 0), 0);
    const perRequest = reported / served.length;
    assert.ok(perRequest > 0.005 && perRequest < 0.0125, `requests cost about a cent (${perRequest.toFixed(5)})`);
    assert.ok(reported <= 1 + 1e-9, `total spend $${reported.toFixed(6)} within the $1.00 budget (reservations are atomic across replicas)`);
    assert.ok(reported >= 0.8, `the budget was used, not refused early ($${reported.toFixed(4)})`);
    const row = await spendOf(keyId, 300);
    assert.equal(row?.requests, 300, 'every request is in the ledger');
    assert.ok(Math.abs((row?.cost_usd ?? 0) - reported) < 1e-6, `ledger $${row?.cost_usd} = sum of reported costs $${reported}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const alerts = replicas.flatMap((replica) => logLines(replica)).filter((line) => {
      const alert = line.alert as { subject?: string } | undefined;
      return alert?.subject === keyId;
    });
    const thresholds = alerts.map((line) => (line.alert as { threshold: number }).threshold).sort();
    assert.deepEqual(thresholds, [0.5, 0.8, 1], 'each threshold alerted exactly once across the three replicas');
  });

  test('a revoked key is refused on every replica within 2 s', async (context) => {
    if (skipped) return context.skip('Redis or PostgreSQL is not running');
    const created = await admin(replicas[0] as Replica, '/admin/keys', { name: 'to revoke' });
    const key = created.json.key as string;
    for (const replica of replicas) assert.equal((await ask(replica, key, 0)).status, 200, 'each replica caches the live key');
    const revoked = await admin(replicas[2] as Replica, `/admin/keys/${created.json.id as string}`, undefined, 'DELETE');
    assert.equal(revoked.status, 200);
    const revokedAt = Date.now();
    for (const replica of replicas) {
      let status = 200;
      while (status !== 401 && Date.now() - revokedAt < 2_000) {
        status = (await ask(replica, key, 1)).status;
        if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.equal(status, 401, `refused on ${replica.url} within 2 s`);
    }
  });
});
