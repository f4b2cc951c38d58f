// One contract suite for every rate-limiter backend: in-memory and Redis (real server on this machine), with fake time.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryLimiter } from '../../src/limits/memory-limiter.js';
import type { BucketSpec, RateLimiter } from '../../src/limits/rate-limiter.js';
import { RedisLimiter } from '../../src/limits/redis-limiter.js';

interface Backend {
  name: string;
  make(clock: () => number): Promise<RateLimiter | undefined>;
}

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisClients: Redis[] = [];
after(async () => {
  for (const client of redisClients) client.disconnect();
});

async function redisOrSkip(): Promise<Redis | undefined> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1_000, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    redisClients.push(client);
    return client;
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    return undefined;
  }
}

const backends: Backend[] = [
  { name: 'memory', make: async (clock) => new MemoryLimiter(clock) },
  {
    name: 'redis',
    make: async (clock) => {
      const client = await redisOrSkip();
      return client ? new RedisLimiter(client, `bw-test-limiter-${randomUUID()}:`, clock) : undefined;
    },
  },
];

function bucket(key: string, ratePerMinute: number, capacity: number, amount = 1): BucketSpec {
  return { key, ratePerMinute, capacity, amount };
}

for (const backend of backends) {
  describe(`rate limiter contract: ${backend.name}`, () => {
    let now = 1_700_000_000_000;
    const clock = () => now;
    const limiter = async (context: { skip: (message: string) => void }) => {
      const made = await backend.make(clock);
      if (!made) context.skip('Redis is not running');
      return made;
    };

    test('a bucket serves its capacity at once, then refuses with the wait until one unit refills', async (context) => {
      const subject = await limiter(context);
      if (!subject) return;
      const spec = [bucket('k:requests', 60, 5)];
      for (let index = 0; index < 5; index++) assert.equal((await subject.acquire({ buckets: spec })).allowed, true);
      const refused = await subject.acquire({ buckets: spec });
      assert.equal(refused.allowed, false);
      assert.equal(refused.retryAfterMs, 1_000, '60/min refills one unit per second');
      assert.equal(refused.buckets[0]?.remaining, 0);
      now += 1_000;
      assert.equal((await subject.acquire({ buckets: spec })).allowed, true, 'one unit came back after a second');
      assert.equal((await subject.acquire({ buckets: spec })).allowed, false);
    });

    test('headers state: remaining and time until full', async (context) => {
      const subject = await limiter(context);
      if (!subject) return;
      const outcome = await subject.acquire({ buckets: [bucket('h:tokens', 600, 1_000, 250)] });
      assert.equal(outcome.allowed, true);
      assert.equal(outcome.buckets[0]?.remaining, 750);
      assert.equal(outcome.buckets[0]?.resetMs, 25_000, '250 tokens at 600/min take 25 s');
    });

    test('all or nothing: one exhausted bucket refuses and takes nothing from the others', async (context) => {
      const subject = await limiter(context);
      if (!subject) return;
      const wide = bucket('a:requests', 100, 100);
      const narrow = bucket('a:tokens', 60, 10, 10);
      assert.equal((await subject.acquire({ buckets: [wide, narrow] })).allowed, true);
      const refused = await subject.acquire({ buckets: [wide, narrow] });
      assert.equal(refused.allowed, false);
      assert.equal(refused.retryAfterMs, 10_000);
      const probe = await subject.acquire({ buckets: [bucket('a:requests', 100, 100, 0)] });
      assert.equal(probe.buckets[0]?.remaining, 99, 'the refused check took nothing from the wide bucket');
    });

    test('settling refunds an over-estimate and charges an under-estimate, never above capacity', async (context) => {
      const subject = await limiter(context);
      if (!subject) return;
      const tokens = bucket('s:tokens', 60, 1_000, 600);
      const first = await subject.acquire({ buckets: [tokens] });
      assert.equal(first.buckets[0]?.remaining, 400);
      await first.settle([500]);
      const probe = await subject.acquire({ buckets: [{ ...tokens, amount: 0 }] });
      assert.equal(probe.buckets[0]?.remaining, 900, 'only 100 were really used');
      const second = await subject.acquire({ buckets: [{ ...tokens, amount: 100 }] });
      await second.settle([-850]);
      const after = await subject.acquire({ buckets: [{ ...tokens, amount: 0 }] });
      assert.equal(after.buckets[0]?.remaining, 0, 'the real usage went past the estimate: the bucket is in debt');
      assert.equal((await subject.acquire({ buckets: [{ ...tokens, amount: 1 }] })).allowed, false);
      const big = await subject.acquire({ buckets: [{ key: 's:other', ratePerMinute: 60, capacity: 10, amount: 1 }] });
      await big.settle([1_000]);
      const capped = await subject.acquire({ buckets: [{ key: 's:other', ratePerMinute: 60, capacity: 10, amount: 0 }] });
      assert.equal(capped.buckets[0]?.remaining, 10, 'refunds never raise a bucket above its capacity');
    });

    test('a full bucket serves one request larger than itself, then waits for the debt to refill', async (context) => {
      const subject = await limiter(context);
      if (!subject) return;
      const huge = bucket('d:tokens', 60, 100, 250);
      assert.equal((await subject.acquire({ buckets: [huge] })).allowed, true);
      const refused = await subject.acquire({ buckets: [bucket('d:tokens', 60, 100, 1)] });
      assert.equal(refused.allowed, false);
      assert.equal(refused.retryAfterMs, 151_000, 'from -150 back to 1 at one per second');
    });

    test('concurrency: at most max leases; settle releases one; a dead holder frees its lease at expiry', async (context) => {
      const subject = await limiter(context);
      if (!subject) return;
      const lease = (leaseId: string) => ({ key: 'c:concurrency', max: 2, leaseId, leaseMs: 30_000 });
      const one = await subject.acquire({ buckets: [], concurrency: lease('1') });
      const two = await subject.acquire({ buckets: [], concurrency: lease('2') });
      assert.equal(one.allowed && two.allowed, true);
      const three = await subject.acquire({ buckets: [bucket('c:requests', 60, 10)], concurrency: lease('3') });
      assert.equal(three.allowed, false);
      assert.equal(three.concurrencyExceeded, true);
      assert.equal(three.buckets[0]?.remaining, 10, 'a concurrency refusal takes no request units');
      await one.settle([]);
      assert.equal((await subject.acquire({ buckets: [], concurrency: lease('4') })).allowed, true);
      now += 30_001;
      assert.equal((await subject.acquire({ buckets: [], concurrency: lease('5') })).allowed, true, 'the expired leases no longer count');
    });

    test('keys are independent', async (context) => {
      const subject = await limiter(context);
      if (!subject) return;
      assert.equal((await subject.acquire({ buckets: [bucket('x:requests', 60, 1)] })).allowed, true);
      assert.equal((await subject.acquire({ buckets: [bucket('x:requests', 60, 1)] })).allowed, false);
      assert.equal((await subject.acquire({ buckets: [bucket('y:requests', 60, 1)] })).allowed, true);
    });

    test('concurrent checks never over-admit', async (context) => {
      const subject = await limiter(context);
      if (!subject) return;
      const spec = [bucket('p:requests', 60, 20)];
      const outcomes = await Promise.all(Array.from({ length: 100 }, () => subject.acquire({ buckets: spec })));
      assert.equal(outcomes.filter((outcome) => outcome.allowed).length, 20);
    });
  });
}
