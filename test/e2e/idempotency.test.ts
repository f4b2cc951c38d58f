// Idempotency keys through the real server, on the embedded SQLite store and on Redis.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { postJson, sseData, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const servers: TestGateway[] = [];

/** Waits until the first request holds the key and is at the upstream (so the duplicate is really concurrent). */
async function untilInFlight(inFlight: () => number): Promise<void> {
  for (let waited = 0; inFlight() === 0; waited += 5) {
    if (waited > 5_000) throw new Error('the first request never reached the upstream');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
after(() => Promise.all(servers.map((server) => server.close())));

async function sqliteConfig(): Promise<Record<string, unknown>> {
  return { stores: { sqlite: { path: join(await mkdtemp(join(tmpdir(), 'bw-idem-')), 'state.db') } } };
}

const redisConfig = async (): Promise<Record<string, unknown>> => ({ stores: { redis: { url: 'redis://127.0.0.1:6379', key_prefix: `bw-test-${randomUUID()}:` } } });

for (const [backend, storeConfig] of [['sqlite', sqliteConfig], ['redis', redisConfig]] as const) {
  describe(`idempotency on ${backend}`, () => {
    const start = async (extra: Record<string, unknown> = {}) => {
      const server = await startTestGateway({
        ...(await storeConfig()),
        providers: [{ name: 'sim', type: 'sim', models: ['sim-fast'], latency: { first_token_ms: 150, per_token_ms: 2 } }],
        ...extra,
      });
      servers.push(server);
      return server;
    };
    const body = { model: 'sim-fast', messages: [{ role: 'user', content: 'charge the card once' }] };

    test('20 concurrent identical requests: one upstream call, 20 identical answers; replay is byte-identical', async () => {
      const server = await start();
      const key = randomUUID();
      const responses = await Promise.all(Array.from({ length: 20 }, () => postJson(`${server.url}/v1/chat/completions`, body, { 'idempotency-key': key })));
      assert.equal(server.sim().stats().chat, 1);
      assert.ok(responses.every((response) => response.status === 200));
      assert.equal(new Set(responses.map((response) => response.text)).size, 1);
      const replay = await postJson(`${server.url}/v1/chat/completions`, body, { 'idempotency-key': key });
      assert.equal(replay.text, responses[0]?.text);
      assert.equal(replay.headers.get('x-breakwater-idempotent-replay'), 'true');
      assert.equal(replay.headers.get('x-breakwater-provider'), 'sim');
      assert.equal(server.sim().stats().chat, 1);
    });

    test('a stream is replayed byte for byte, as a stream', async () => {
      const server = await start();
      const key = randomUUID();
      const streamed = { ...body, stream: true, stream_options: { include_usage: true } };
      const first = await postJson(`${server.url}/v1/chat/completions`, streamed, { 'idempotency-key': key });
      const again = await postJson(`${server.url}/v1/chat/completions`, streamed, { 'idempotency-key': key });
      assert.equal(sseData(first.text).at(-1), '[DONE]');
      assert.equal(again.text, first.text);
      assert.match(again.headers.get('content-type') ?? '', /text\/event-stream/);
      assert.equal(server.sim().stats().chat, 1);
    });

    test('the same key with a different body is refused with 422', async () => {
      const server = await start();
      const key = randomUUID();
      await postJson(`${server.url}/v1/chat/completions`, body, { 'idempotency-key': key });
      const other = await postJson(`${server.url}/v1/chat/completions`, { ...body, messages: [{ role: 'user', content: 'charge it twice' }] }, { 'idempotency-key': key });
      assert.equal(other.status, 422);
      assert.equal((other.json() as { error: { code: string; param: string } }).error.code, 'idempotency_key_reused');
    });

    test('a failed request is not remembered: the retry with the same key runs', async () => {
      const server = await start({ reliability: { max_attempts: 1 } });
      const key = randomUUID();
      const failed = await postJson(`${server.url}/v1/chat/completions`, body, { 'idempotency-key': key, 'x-sim-fault': 'status=500' });
      assert.equal(failed.status, 502);
      const retried = await postJson(`${server.url}/v1/chat/completions`, body, { 'idempotency-key': key });
      assert.equal(retried.status, 200);
      assert.equal(server.sim().stats().chat, 2);
    });

    test('on_concurrent: conflict answers a duplicate in flight with 409', async () => {
      const server = await start({ reliability: { idempotency: { on_concurrent: 'conflict' } } });
      const key = randomUUID();
      const firstRequest = postJson(`${server.url}/v1/chat/completions`, body, { 'idempotency-key': key });
      await untilInFlight(() => server.sim().stats().inFlight);
      const second = await postJson(`${server.url}/v1/chat/completions`, body, { 'idempotency-key': key });
      const first = await firstRequest;
      assert.equal(first?.status, 200);
      assert.equal(second?.status, 409);
      assert.ok(second?.headers.get('retry-after'));
    });
  });
}

test('two replicas sharing Redis: a duplicate sent to the other replica waits for the first and gets its answer', async () => {
  const shared = await redisConfig();
  const providers = [{ name: 'sim', type: 'sim', models: ['sim-fast'], latency: { first_token_ms: 200, per_token_ms: 1 } }];
  const one = await startTestGateway({ ...shared, providers });
  const two = await startTestGateway({ ...shared, providers });
  servers.push(one, two);
  const key = randomUUID();
  const body = { model: 'sim-fast', messages: [{ role: 'user', content: 'once across replicas' }] };
  const firstRequest = postJson(`${one.url}/v1/chat/completions`, body, { 'idempotency-key': key });
  await untilInFlight(() => one.sim().stats().inFlight);
  const b = await postJson(`${two.url}/v1/chat/completions`, body, { 'idempotency-key': key });
  const a = await firstRequest;
  assert.equal(a?.text, b?.text);
  assert.equal(one.sim().stats().chat + two.sim().stats().chat, 1);
});
