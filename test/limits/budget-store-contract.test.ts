// One contract suite for budget counters: in-memory and Redis (real server), both on a fake clock (leases).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import type { BudgetCounter, BudgetStore } from '../../src/limits/budget-store.js';
import { MemoryBudgetStore } from '../../src/limits/memory-budget-store.js';
import { RedisBudgetStore } from '../../src/limits/redis-budget-store.js';
import { FakeClock } from '../../src/reliability/clock.js';
import { connectTestRedis } from './redis-for-tests.js';

const clients: Redis[] = [];
after(() => clients.forEach((client) => client.disconnect()));

const backends: Array<{ name: string; make: (clock: FakeClock) => Promise<BudgetStore | undefined> }> = [
  { name: 'memory', make: async (clock) => new MemoryBudgetStore(() => clock.now()) },
  {
    name: 'redis',
    make: async (clock) => {
      const client = await connectTestRedis();
      if (!client) return undefined;
      clients.push(client);
      return new RedisBudgetStore(client, `bw-test-budget-${randomUUID()}:`, () => clock.now());
    },
  },
];

const leaseMs = 30_000;

const counter = (key: string, limit: number, amount: number): BudgetCounter => ({ key, limit, amount, ttlMs: 60_000 });

for (const backend of backends) {
  describe(`budget store contract: ${backend.name}`, () => {
    let clock = new FakeClock();
    const store = async (context: { skip: (message: string) => void }) => {
      clock = new FakeClock(Date.now());
      const made = await backend.make(clock);
      if (!made) context.skip('Redis is not running');
      return made;
    };

    test('an unseeded counter asks to be seeded; seeding twice keeps the first value', async (context) => {
      const subject = await store(context);
      if (!subject) return;
      const first = await subject.reserve([counter('a', 100, 10), counter('b', 100, 10)], leaseMs);
      assert.deepEqual(first, { status: 'unseeded', indexes: [0, 1] });
      await subject.seed('a', 40, 60_000);
      await subject.seed('a', 99, 60_000);
      assert.deepEqual(await subject.read('a'), { spent: 40, reserved: 0 });
    });

    test('reservations count against the limit until settled with the real amount', async (context) => {
      const subject = await store(context);
      if (!subject) return;
      await subject.seed('day', 0, 60_000);
      const one = await subject.reserve([counter('day', 100, 60)], leaseMs);
      assert.equal(one.status, 'reserved');
      const two = await subject.reserve([counter('day', 100, 60)], leaseMs);
      assert.deepEqual(two, { status: 'exceeded', index: 0, spent: 0, reserved: 60, expired: 0 });
      if (one.status !== 'reserved') return;
      assert.deepEqual(await one.settle([25]), [{ spentBefore: 0, spentAfter: 25 }]);
      assert.deepEqual(await subject.read('day'), { spent: 25, reserved: 0 });
      assert.equal((await subject.reserve([counter('day', 100, 60)], leaseMs)).status, 'reserved');
    });

    test('all or nothing across counters', async (context) => {
      const subject = await store(context);
      if (!subject) return;
      await subject.seed('wide', 0, 60_000);
      await subject.seed('narrow', 95, 60_000);
      const refused = await subject.reserve([counter('wide', 1_000, 10), counter('narrow', 100, 10)], leaseMs);
      assert.equal(refused.status, 'exceeded');
      assert.equal(refused.status === 'exceeded' && refused.index, 1);
      assert.deepEqual(await subject.read('wide'), { spent: 0, reserved: 0 });
    });

    test('concurrent reservations never overshoot the limit', async (context) => {
      const subject = await store(context);
      if (!subject) return;
      await subject.seed('race', 0, 60_000);
      const results = await Promise.all(Array.from({ length: 50 }, () => subject.reserve([counter('race', 1_000, 30)], leaseMs)));
      assert.equal(results.filter((result) => result.status === 'reserved').length, 33);
    });

    test('an unsettled reservation stops counting once its lease has run out (its replica died)', async (context) => {
      const subject = await store(context);
      if (!subject) return;
      await subject.seed('crash', 10, 60_000);
      const held = await subject.reserve([counter('crash', 100, 80)], leaseMs);
      assert.equal(held.status, 'reserved');
      await clock.advance(leaseMs - 1);
      assert.deepEqual(await subject.read('crash'), { spent: 10, reserved: 80 });
      const early = await subject.reserve([counter('crash', 100, 80)], leaseMs);
      assert.equal(early.status, 'exceeded');
      await clock.advance(1);
      const after = await subject.reserve([counter('crash', 100, 80)], leaseMs);
      assert.equal(after.status, 'reserved');
      assert.equal(after.expired, 1);
      assert.deepEqual(await subject.read('crash'), { spent: 10, reserved: 80 });
    });

    test('a settle after the lease ran out counts the real spend once and releases nothing twice', async (context) => {
      const subject = await store(context);
      if (!subject) return;
      await subject.seed('late', 0, 60_000);
      const slow = await subject.reserve([counter('late', 1_000, 300)], leaseMs);
      await clock.advance(leaseMs + 5);
      // Another request's reservation releases the lapsed one, then holds its own while the late settle arrives.
      const other = await subject.reserve([counter('late', 1_000, 200)], leaseMs);
      assert.equal(other.status, 'reserved');
      assert.equal(other.expired, 1);
      if (slow.status !== 'reserved' || other.status !== 'reserved') return;
      assert.deepEqual(await slow.settle([250]), [{ spentBefore: 0, spentAfter: 250 }]);
      assert.deepEqual(await subject.read('late'), { spent: 250, reserved: 200 });
      assert.deepEqual(await other.settle([150]), [{ spentBefore: 250, spentAfter: 400 }]);
      assert.deepEqual(await subject.read('late'), { spent: 400, reserved: 0 });
    });

    test('a settle after the lease ran out but before anyone released it releases it once', async (context) => {
      const subject = await store(context);
      if (!subject) return;
      await subject.seed('quiet', 0, 60_000);
      const slow = await subject.reserve([counter('quiet', 1_000, 300)], leaseMs);
      await clock.advance(leaseMs + 5);
      if (slow.status !== 'reserved') return assert.fail('not reserved');
      await slow.settle([120]);
      assert.deepEqual(await subject.read('quiet'), { spent: 120, reserved: 0 });
      const next = await subject.reserve([counter('quiet', 1_000, 100)], leaseMs);
      assert.equal(next.expired ?? 0, 0);
      assert.deepEqual(await subject.read('quiet'), { spent: 120, reserved: 100 });
    });

    test('concurrent reservations never overshoot, also while lapsed leases are released', async (context) => {
      const subject = await store(context);
      if (!subject) return;
      await subject.seed('churn', 0, 60_000);
      for (let index = 0; index < 10; index++) await subject.reserve([counter('churn', 1_000, 30)], leaseMs);
      await clock.advance(leaseMs);
      const results = await Promise.all(Array.from({ length: 50 }, () => subject.reserve([counter('churn', 1_000, 30)], leaseMs)));
      assert.equal(results.filter((result) => result.status === 'reserved').length, 33);
      assert.equal(results.reduce((sum, result) => sum + (result.expired ?? 0), 0), 10);
      assert.deepEqual(await subject.read('churn'), { spent: 0, reserved: 990 });
    });

    test('each counter of a reservation holds its own lease', async (context) => {
      const subject = await store(context);
      if (!subject) return;
      await subject.seed('team', 0, 60_000);
      await subject.seed('user', 0, 60_000);
      const both = await subject.reserve([counter('team', 100, 60), counter('user', 100, 60)], leaseMs);
      assert.equal(both.status, 'reserved');
      await clock.advance(leaseMs);
      const userOnly = await subject.reserve([counter('user', 100, 60)], leaseMs);
      assert.equal(userOnly.status, 'reserved');
      assert.deepEqual(await subject.read('team'), { spent: 0, reserved: 0 });
      assert.deepEqual(await subject.read('user'), { spent: 0, reserved: 60 });
      if (both.status !== 'reserved') return;
      assert.deepEqual(await both.settle([40, 40]), [
        { spentBefore: 0, spentAfter: 40 },
        { spentBefore: 0, spentAfter: 40 },
      ]);
      assert.deepEqual(await subject.read('user'), { spent: 40, reserved: 60 });
    });
  });
}
