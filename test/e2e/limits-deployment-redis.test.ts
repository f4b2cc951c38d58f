// Two gateways sharing Redis draw on one quota per upstream deployment: the deployment's rpm holds across replicas.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connectTestRedis, testRedisUrl } from '../limits/redis-for-tests.js';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';

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
