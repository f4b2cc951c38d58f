// Two gateways sharing Redis draw on one quota per upstream deployment: the deployment's rpm holds across replicas;
// with Redis unreachable the deployment quota follows limits.on_redis_failure like every other limit.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connectTestRedis, testRedisUrl } from '../limits/redis-for-tests.js';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort } from './redis-server-for-tests.js';

describe('deployment quotas shared through Redis', () => {
  let gateways: TestGateway[] = [];
  let skipped = false;

  before(async () => {
    const redis = await connectTestRedis();
    if (!redis) {
      skipped = true;
      return;
    }
    redis.disconnect();
    const config = {
      stores: { redis: { url: testRedisUrl, key_prefix: `bw-test-deployment-quota-${randomUUID()}:`, command_timeout_ms: 1_000 } },
      limits: { decide_within_ms: 1_000 },
      providers: [
        { name: 'primary', type: 'sim', models: [] },
        { name: 'secondary', type: 'sim', models: [] },
      ],
      routes: [{ model: 'spill', candidates: [{ provider: 'primary', model: 'sim-fast', rpm: 3 }, { provider: 'secondary', model: 'sim-fast' }] }],
    };
    gateways = [await startTestGateway(config), await startTestGateway(config)];
  });
  after(() => Promise.all(gateways.map((gateway) => gateway.close())));

  test('the first candidate serves 3 requests per minute in total across both gateways, then the second takes over', async (context) => {
    if (skipped) return context.skip('Redis is not running');
    const providers: Array<string | null> = [];
    for (let index = 0; index < 6; index++) {
      const gateway = gateways[index % 2] as TestGateway;
      const response = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'spill', messages: [{ role: 'user', content: `shared ${index}` }] });
      assert.equal(response.status, 200, response.text);
      providers.push(response.headers.get('x-breakwater-provider'));
    }
    assert.deepEqual(providers, ['primary', 'primary', 'primary', 'secondary', 'secondary', 'secondary']);
    const primaryCalls = gateways.reduce((sum, gateway) => sum + gateway.sim('primary').stats().chat, 0);
    assert.equal(primaryCalls, 3, 'each gateway alone would have allowed 3');
  });
});

describe('deployment quotas when Redis is unreachable', () => {
  const gateways = new Map<'open' | 'closed', TestGateway>();

  before(async () => {
    // Nothing listens there: every call to the shared limiter fails at once.
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    for (const mode of ['open', 'closed'] as const) {
      gateways.set(
        mode,
        await startTestGateway({
          stores: { redis: { url: deadRedis, key_prefix: `bw-test-deployment-quota-down-${randomUUID()}:` } },
          limits: { on_redis_failure: mode, decide_within_ms: 50, probe_interval_ms: 60_000 },
          providers: [
            { name: 'primary', type: 'sim', models: [] },
            { name: 'secondary', type: 'sim', models: [] },
          ],
          routes: [{ model: 'spill', candidates: [{ provider: 'primary', model: 'sim-fast', rpm: 1 }, { provider: 'secondary', model: 'sim-fast' }] }],
        }),
      );
    }
  });
  after(() => Promise.all([...gateways.values()].map((gateway) => gateway.close())));

  const ask = (gateway: TestGateway, content: string) => postJson(`${gateway.url}/v1/chat/completions`, { model: 'spill', messages: [{ role: 'user', content }] });

  test('fail-closed: 503 BW_ERR_LIMITER_UNAVAILABLE in the OpenAI envelope, and no upstream is called', async () => {
    const gateway = gateways.get('closed') as TestGateway;
    const refused = await ask(gateway, 'closed');
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.headers.get('x-breakwater-error-code'), 'BW_ERR_LIMITER_UNAVAILABLE');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal((refused.json() as { error: { type: string } }).error.type, 'server_error');
    assert.equal(gateway.sim('primary').stats().chat + gateway.sim('secondary').stats().chat, 0);
  });

  test('fail-open: the local limiter keeps the quota on this replica (rpm 1: the second request spills over)', async () => {
    const gateway = gateways.get('open') as TestGateway;
    const first = await ask(gateway, 'open one');
    const second = await ask(gateway, 'open two');
    assert.equal(first.status, 200, first.text);
    assert.equal(second.status, 200, second.text);
    assert.deepEqual([first.headers.get('x-breakwater-provider'), second.headers.get('x-breakwater-provider')], ['primary', 'secondary']);
  });
});
