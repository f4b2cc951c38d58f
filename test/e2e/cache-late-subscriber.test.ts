// A replica whose announcement subscriber cannot reach Redis at start-up (Redis still starting, a slow network)
// subscribes as soon as Redis answers, instead of missing every other replica's announcements for its lifetime.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisStore } from '../../src/cache/stores/redis-store.js';
import type { CacheAnnouncement } from '../../src/cache/stores/shared-store.js';
import { createRedis } from '../../src/store/redis.js';
import { ThrowawayRedis, freePort } from './redis-server-for-tests.js';

test('the subscriber joins once Redis answers, after start-up gave up waiting', async (t) => {
  const port = await freePort();
  const settings = { url: `redis://127.0.0.1:${port}`, key_prefix: 'late:', command_timeout_ms: 500 };
  const late = new RedisStore(createRedis(settings, 'cache'), () => createRedis(settings, 'cache-events'), 'late:');
  const heard: CacheAnnouncement[] = [];
  // Nothing listens on the port yet: start-up waits its bounded time and reports it, without giving up for good.
  await assert.rejects(late.onAnnouncement((announcement) => heard.push(announcement)), /not ready yet/);
  assert.equal(late.subscribed, false);

  const redis = await ThrowawayRedis.startOn(port);
  if (!redis) return t.skip('redis-server is not installed (CI installs it)');
  const other = new RedisStore(createRedis(settings, 'cache'), () => createRedis(settings, 'cache-events'), 'late:');
  try {
    for (let waited = 0; !late.subscribed && waited < 15_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(late.subscribed, true, 'subscribed once Redis answered');
    for (let waited = 0; heard.length === 0 && waited < 5_000; waited += 20) {
      await other.announce({ type: 'put', key: 'ns:tenant:abc' }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(heard[0]?.type, 'put');
    assert.equal(heard[0]?.type === 'put' ? heard[0].key : undefined, 'ns:tenant:abc');
  } finally {
    await other.close();
    await late.close();
    await redis.stop();
  }
});
