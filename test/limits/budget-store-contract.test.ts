// One contract suite for budget counters: in-memory and Redis (real server).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import type { BudgetCounter, BudgetStore } from '../../src/limits/budget-store.js';
import { MemoryBudgetStore } from '../../src/limits/memory-budget-store.js';
import { RedisBudgetStore } from '../../src/limits/redis-budget-store.js';
import { connectTestRedis } from './redis-for-tests.js';

const clients: Redis[] = [];
after(() => clients.forEach((client) => client.disconnect()));

const backends: Array<{ name: string; make: () => Promise<BudgetStore | undefined> }> = [
  { name: 'memory', make: async () => new MemoryBudgetStore() },
  {
    name: 'redis',
    make: async () => {
      const client = await connectTestRedis();
      if (!client) return undefined;
      clients.push(client);
      return new RedisBudgetStore(client, `bw-test-budget-${randomUUID()}:`);
    },
  },
];

const counter = (key: string, limit: number, amount: number): BudgetCounter => ({ key, limit, amount, ttlMs: 60_000 });

for (const backend of backends) {
  describe(`budget store contract: ${backend.name}`, () => {
    const store = async (context: { skip: (message: string) => void }) => {
      const made = await backend.make();
      if (!made) context.skip('Redis is not running');
      return made;
    };

    test('an unseeded counter asks to be seeded; seeding twice keeps the first value', async (context) => {
      const subject = await store(context);
      if (!subject) return;
      const first = await subject.reserve([counter('a', 100, 10), counter('b', 100, 10)]);
      assert.deepEqual(first, { status: 'unseeded', indexes: [0, 1] });
      await subject.seed('a', 40, 60_000);
      await subject.seed('a', 99, 60_000);
      assert.deepEqual(await subject.read('a'), { spent: 40, reserved: 0 });
    });

    test('reservations count against the limit until settled with the real amount', async (context) => {
      const subject = await store(context);
      if (!subject) return;
      await subject.seed('day', 0, 60_000);
      const one = await subject.reserve([counter('day', 100, 60)]);
      assert.equal(one.status, 'reserved');
      const two = await subject.reserve([counter('day', 100, 60)]);
      assert.deepEqual(two, { status: 'exceeded', index: 0, spent: 0, reserved: 60 });
      if (one.status !== 'reserved') return;
      assert.deepEqual(await one.settle([25]), [{ spentBefore: 0, spentAfter: 25 }]);
      assert.deepEqual(await subject.read('day'), { spent: 25, reserved: 0 });
      assert.equal((await subject.reserve([counter('day', 100, 60)])).status, 'reserved');
    });

    test('all or nothing across counters', async (context) => {
      const subject = await store(context);
      if (!subject) return;
      await subject.seed('wide', 0, 60_000);
      await subject.seed('narrow', 95, 60_000);
      const refused = await subject.reserve([counter('wide', 1_000, 10), counter('narrow', 100, 10)]);
      assert.equal(refused.status, 'exceeded');
      assert.equal(refused.status === 'exceeded' && refused.index, 1);
      assert.deepEqual(await subject.read('wide'), { spent: 0, reserved: 0 });
    });

    test('concurrent reservations never overshoot the limit', async (context) => {
      const subject = await store(context);
      if (!subject) return;
      await subject.seed('race', 0, 60_000);
      const results = await Promise.all(Array.from({ length: 50 }, () => subject.reserve([counter('race', 1_000, 30)])));
      assert.equal(results.filter((result) => result.status === 'reserved').length, 33);
    });
  });
}
