// One contract suite for virtual-key stores (SQLite, PostgreSQL), and the key service on top: hashed secrets, expiry,
// revocation reaching another replica's cache through Redis pub/sub.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import type { KeyStore } from '../../src/keys/key-record.js';
import { hashSecret } from '../../src/keys/key-secret.js';
import { KeyService } from '../../src/keys/key-service.js';
import { PostgresKeyStore } from '../../src/keys/postgres-key-store.js';
import { RedisRevocationBus } from '../../src/keys/revocation-bus.js';
import { SqliteKeyStore } from '../../src/keys/sqlite-key-store.js';
import { openSqlite } from '../../src/store/sqlite.js';
import { createTestSchema, type TestSchema } from '../accounting/postgres-for-tests.js';
import { connectTestRedis } from '../limits/redis-for-tests.js';

const schemas: TestSchema[] = [];
const clients: Redis[] = [];
after(async () => {
  for (const client of clients) client.disconnect();
  for (const schema of schemas) await schema.drop();
});

const backends: Array<{ name: string; make: () => Promise<KeyStore | undefined> }> = [
  { name: 'sqlite', make: async () => new SqliteKeyStore(openSqlite(':memory:')) },
  {
    name: 'postgres',
    make: async () => {
      const schema = await createTestSchema('keys');
      if (!schema) return undefined;
      schemas.push(schema);
      return new PostgresKeyStore(schema.pool, false);
    },
  },
];

for (const backend of backends) {
  describe(`key store contract: ${backend.name}`, () => {
    const service = async (context: { skip: (message: string) => void }, now: () => number = Date.now) => {
      const store = await backend.make();
      if (!store) {
        context.skip('PostgreSQL is not running');
        return undefined;
      }
      const keys = new KeyService(store, undefined, { cacheTtlMs: 0, clock: now });
      await keys.start();
      return keys;
    };

    test('create returns the secret once; the store keeps its hash and the overrides', async (context) => {
      const keys = await service(context);
      if (!keys) return;
      const { secret, record } = await keys.create({ team: 'research', user: 'alice', tier: 'paid', models: ['sim-fast'], rpm: 10, tpm: 1_000, concurrency: 2, budgets: [{ period: 'day', cost_usd: 5 }] });
      const stored = await keys.store.get(record.id);
      assert.ok(stored);
      assert.equal(stored.hash, hashSecret(secret));
      assert.equal(JSON.stringify(stored).includes(secret), false);
      assert.deepEqual(
        { team: stored.team, user: stored.user, tier: stored.tier, models: stored.models, rpm: stored.rpm, tpm: stored.tpm, concurrency: stored.concurrency, budgets: stored.budgets },
        { team: 'research', user: 'alice', tier: 'paid', models: ['sim-fast'], rpm: 10, tpm: 1_000, concurrency: 2, budgets: [{ period: 'day', cost_usd: 5 }] },
      );
      assert.equal((await keys.authenticate(secret))?.id, record.id);
      assert.equal(await keys.authenticate(`${secret}x`), undefined);
      await keys.close();
    });

    test('revoked and expired keys no longer authenticate; lists hide revoked keys unless asked', async (context) => {
      let now = 1_700_000_000_000;
      const keys = await service(context, () => now);
      if (!keys) return;
      const live = await keys.create({ name: 'live' });
      const revoked = await keys.create({ name: 'revoked' });
      const expiring = await keys.create({ name: 'expiring', expiresAt: now + 1_000 });
      assert.ok(await keys.revoke(revoked.record.id));
      assert.equal(await keys.revoke(revoked.record.id), undefined, 'revoking twice finds no live key');
      assert.equal(await keys.authenticate(revoked.secret), undefined);
      assert.ok(await keys.authenticate(expiring.secret));
      now += 1_000;
      assert.equal(await keys.authenticate(expiring.secret), undefined);
      assert.ok(await keys.authenticate(live.secret));
      const names = (await keys.store.list(false)).map((record) => record.name).sort();
      assert.deepEqual(names, ['expiring', 'live']);
      assert.equal((await keys.store.list(true)).length, 3);
      await keys.close();
    });
  });
}

test('a revocation on one replica reaches another replica with a warm cache through Redis pub/sub', async (context) => {
  const publisher = await connectTestRedis();
  const subscriber = await connectTestRedis();
  const otherPublisher = await connectTestRedis();
  const otherSubscriber = await connectTestRedis();
  if (!publisher || !subscriber || !otherPublisher || !otherSubscriber) return context.skip('Redis is not running');
  clients.push(publisher, subscriber, otherPublisher, otherSubscriber);
  const prefix = `bw-test-keys-${randomUUID()}:`;
  const store = new SqliteKeyStore(openSqlite(':memory:'));
  // A long TTL: only the pub/sub message can make the second replica forget the key quickly.
  const one = new KeyService(store, new RedisRevocationBus(publisher, subscriber, prefix), { cacheTtlMs: 60_000 });
  const two = new KeyService(store, new RedisRevocationBus(otherPublisher, otherSubscriber, prefix), { cacheTtlMs: 60_000 });
  await one.start();
  await two.start();
  const { secret, record } = await one.create({});
  assert.ok(await two.authenticate(secret), 'replica two caches the live key');
  await one.revoke(record.id);
  const deadline = Date.now() + 2_000;
  while (Date.now() < deadline && (await two.authenticate(secret))) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(await two.authenticate(secret), undefined, 'refused on the other replica within 2 s');
  await one.close();
  await two.close();
});
