// One contract, run on every idempotency backend: the embedded SQLite store and Redis (real, on 127.0.0.1:6379).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { systemClock } from '../../src/reliability/clock.js';
import { RedisIdempotencyStore } from '../../src/reliability/idempotency/redis-store.js';
import { SqliteIdempotencyStore } from '../../src/reliability/idempotency/sqlite-store.js';
import type { IdempotencyStore } from '../../src/reliability/idempotency/store.js';

const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
after(() => redis.quit());

async function redisStore(): Promise<IdempotencyStore> {
  await redis.connect().catch(() => undefined);
  // With CI=true a missing Redis fails here rather than skipping the backend.
  assert.equal(await redis.ping(), 'PONG', 'Redis must be reachable on 127.0.0.1:6379 (scripts/ensure-services.sh)');
  return RedisIdempotencyStore.create(redis.duplicate(), `bw-test-${randomUUID()}:`);
}

const backends: Array<[string, () => Promise<IdempotencyStore>]> = [
  ['sqlite', async () => new SqliteIdempotencyStore(':memory:', systemClock)],
  ['redis', redisStore],
];

for (const [name, make] of backends) {
  describe(`idempotency store contract: ${name}`, () => {
    test('the first claim wins; others see it in flight with its fingerprint', async () => {
      const store = await make();
      assert.deepEqual(await store.begin('k1', 'fp-a', 10_000), { state: 'acquired' });
      assert.deepEqual(await store.begin('k1', 'fp-a', 10_000), { state: 'in-flight', fingerprint: 'fp-a' });
      assert.deepEqual(await store.begin('k1', 'fp-b', 10_000), { state: 'in-flight', fingerprint: 'fp-a' });
      await store.close();
    });

    test('a completed claim replays its stored answer', async () => {
      const store = await make();
      await store.begin('k2', 'fp', 10_000);
      await store.complete('k2', 'fp', { kind: 'stream', body: ['{"a":1}', '{"b":2}'], provider: 'sim', model: 'm' }, 60_000);
      assert.deepEqual(await store.begin('k2', 'fp', 10_000), { state: 'done', fingerprint: 'fp', response: { kind: 'stream', body: ['{"a":1}', '{"b":2}'], provider: 'sim', model: 'm' } });
      await store.close();
    });

    test('a released claim can be taken again; only the holder can complete or release it', async () => {
      const store = await make();
      await store.begin('k3', 'fp', 10_000);
      await store.release('k3', 'other');
      assert.equal((await store.begin('k3', 'fp2', 10_000)).state, 'in-flight', 'a release by a non-holder is ignored');
      await store.complete('k3', 'other', { kind: 'json', body: '{}' }, 60_000);
      assert.equal((await store.begin('k3', 'fp', 10_000)).state, 'in-flight', 'a completion by a non-holder is ignored');
      await store.release('k3', 'fp');
      assert.deepEqual(await store.begin('k3', 'fp2', 10_000), { state: 'acquired' });
      await store.close();
    });

    test("a crashed holder's lock expires", async () => {
      const store = await make();
      await store.begin('k4', 'fp', 100);
      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.deepEqual(await store.begin('k4', 'fp2', 10_000), { state: 'acquired' });
      await store.close();
    });

    test('a stored answer expires after its TTL', async () => {
      const store = await make();
      await store.begin('k5', 'fp', 10_000);
      await store.complete('k5', 'fp', { kind: 'json', body: '{}' }, 100);
      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.deepEqual(await store.begin('k5', 'fp', 10_000), { state: 'acquired' });
      await store.close();
    });
  });
}
