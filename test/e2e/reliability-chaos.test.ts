// Chaos through the real server: simulators as upstreams, counts taken on the simulators' side.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, test } from 'node:test';
import { postJson, sseData, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const servers: TestGateway[] = [];
after(() => Promise.all(servers.map((server) => server.close())));

async function gateway(raw: Record<string, unknown>): Promise<TestGateway> {
  const server = await startTestGateway(raw);
  servers.push(server);
  return server;
}

const ask = (server: TestGateway, model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  postJson(`${server.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: `hello ${Math.random()}` }], ...extra }, headers);

const chain = (model: string, ...providers: string[]) => ({ model, candidates: providers.map((provider) => ({ provider, model: 'sim-fast' })) });
const sim = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: 'sim', models: [], ...extra });

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

test('429 + Retry-After: the backup serves and the primary gets zero calls until the wait is over', async () => {
  const server = await gateway({ providers: [sim('primary', { faults: ['status=429;retry-after=1;times=1'] }), sim('backup')], routes: [chain('chat', 'primary', 'backup')] });
  const first = await ask(server, 'chat');
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('x-breakwater-provider'), 'backup');
  assert.equal(first.headers.get('x-breakwater-attempts'), '2');
  for (let index = 0; index < 5; index++) assert.equal((await ask(server, 'chat')).headers.get('x-breakwater-provider'), 'backup');
  assert.equal(server.sim('primary').stats().chat, 1, 'no early call to the rate-limited primary');
  await new Promise((resolve) => setTimeout(resolve, 1_050));
  const later = await ask(server, 'chat');
  assert.equal(later.headers.get('x-breakwater-provider'), 'primary');
  assert.equal(server.sim('primary').stats().chat, 2);
});

test('Retry-After as an HTTP-date is honoured; garbage is ignored (no cool-down)', async () => {
  const date = new Date(Date.now() + 60_000).toUTCString();
  const server = await gateway({
    providers: [sim('dated', { faults: [`status=429;retry-after=${date};times=1`] }), sim('garbled', { faults: ['status=429;retry-after=whenever;times=1'] }), sim('backup')],
    routes: [chain('dated', 'dated', 'backup'), chain('garbled', 'garbled', 'backup')],
  });
  await ask(server, 'dated');
  await ask(server, 'dated');
  assert.equal(server.sim('dated').stats().chat, 1, 'cooling for a minute');
  await ask(server, 'garbled');
  const next = await ask(server, 'garbled');
  assert.equal(next.headers.get('x-breakwater-provider'), 'garbled', 'no usable Retry-After: called again');
  assert.equal(server.sim('garbled').stats().chat, 2);
});

test('one 503, then success: retried on the same upstream after a short jittered wait', async () => {
  const server = await gateway({ reliability: { backoff: { base_ms: 100, cap_ms: 1_000 } }, providers: [sim('only', { faults: ['status=503;times=1'] })], routes: [chain('chat', 'only')] });
  const started = performance.now();
  const response = await ask(server, 'chat');
  const elapsed = performance.now() - started;
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-breakwater-attempts'), '2');
  assert.equal(server.sim('only').stats().chat, 2);
  assert.ok(elapsed < 1_000, `the wait is bounded by the first backoff step (took ${elapsed.toFixed(0)} ms)`);
  assert.ok(server.logs.some((line) => line.includes('"msg":"retry"')), 'the retry is logged');
});

test('400, 404 and 422 are never retried nor failed over; 401 is not retried on the same upstream', async () => {
  for (const status of [400, 404, 422, 401]) {
    const server = await gateway({ providers: [sim('primary', { faults: [`status=${status}`] }), sim('backup')], routes: [chain('chat', 'primary', 'backup')] });
    const response = await ask(server, 'chat');
    assert.equal(server.sim('primary').stats().chat, 1, `HTTP ${status}: exactly one call to the upstream that refused`);
    if (status === 401) {
      // The gateway's credentials for that provider are wrong: another provider may still serve.
      assert.equal(response.status, 200);
      assert.equal(server.sim('backup').stats().chat, 1);
    } else {
      assert.equal(response.status, status);
      assert.equal(server.sim('backup').stats().chat, 0);
    }
  }
});

test('a lone upstream refusing the gateway\'s key: one call, and the client sees 502 BW_ERR_UPSTREAM_AUTH', async () => {
  const server = await gateway({ providers: [sim('only', { faults: ['status=401'] })], routes: [chain('chat', 'only')] });
  const response = await ask(server, 'chat');
  assert.equal(response.status, 502);
  assert.equal(response.headers.get('x-breakwater-error-code'), 'BW_ERR_UPSTREAM_AUTH');
  assert.equal(server.sim('only').stats().chat, 1);
});

test('connection refused fails over at once', async () => {
  const port = await closedPort();
  const server = await gateway({
    reliability: { backoff: { base_ms: 5_000, cap_ms: 8_000 } },
    providers: [{ name: 'gone', type: 'openai-compatible', base_url: `http://127.0.0.1:${port}/v1`, models: [] }, sim('backup')],
    routes: [chain('chat', 'gone', 'backup')],
  });
  const started = performance.now();
  const response = await ask(server, 'chat');
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-breakwater-provider'), 'backup');
  assert.ok(performance.now() - started < 2_000, 'no backoff wait before a fallback');
});

test('a hang before headers hits the per-attempt timeout, then fails over', async () => {
  const server = await gateway({
    providers: [sim('stuck', { faults: ['hang=before-headers'], timeouts: { first_byte_ms: 200 } }), sim('backup')],
    routes: [chain('chat', 'stuck', 'backup')],
  });
  for (const stream of [false, true]) {
    const response = await ask(server, 'chat', { stream });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-breakwater-provider'), 'backup');
    if (stream) assert.equal(sseData(response.text).at(-1), '[DONE]');
  }
});

test('a stream failing before its first chunk fails over; after the first chunk it ends with an error event', async () => {
  const server = await gateway({
    providers: [sim('flaky', { faults: ['status=503;times=1', 'stall-after=3'], timeouts: { idle_ms: 200 } }), sim('backup')],
    routes: [chain('chat', 'flaky', 'backup')],
  });
  const failedOver = await ask(server, 'chat', { stream: true });
  assert.equal(failedOver.headers.get('x-breakwater-provider'), 'backup');
  assert.equal(sseData(failedOver.text).at(-1), '[DONE]');
  const stalled = await ask(server, 'chat', { stream: true });
  assert.equal(stalled.status, 200);
  assert.equal(stalled.headers.get('x-breakwater-provider'), 'flaky');
  const events = sseData(stalled.text);
  assert.match(events.at(-1) ?? '', /idle timeout/);
  assert.equal(events.length, 4, '3 chunks, then the error event: no duplicates from a second upstream');
  assert.equal(server.sim('backup').stats().chat, 1, 'no failover once bytes were sent');
});

test('a stream cut after K chunks ends with an error event and is billed for the tokens delivered', async () => {
  const server = await gateway({ providers: [sim('cut', { faults: ['cut-after=6'] })], routes: [chain('chat', 'cut')] });
  const response = await ask(server, 'chat', { stream: true }, { 'x-request-id': 'cut-stream-1' });
  const events = sseData(response.text);
  const error = JSON.parse(events.at(-1) ?? '{}') as { error?: { code: string } };
  assert.equal(error.error?.code, 'BW_ERR_STREAM_INTERRUPTED');
  const chunks = events.slice(0, -1).map((event) => JSON.parse(event) as { choices: Array<{ delta: { content?: string } }> });
  const delivered = chunks.filter((chunk) => chunk.choices[0]?.delta.content).length;
  assert.equal(delivered, 5, 'role chunk + 5 tokens');
  await new Promise((resolve) => setTimeout(resolve, 50));
  const line = server.logs.map((entry) => JSON.parse(entry) as Record<string, unknown>).find((entry) => entry.request_id === 'cut-stream-1' && entry.msg === 'request');
  assert.equal(line?.completion_tokens, delivered);
  assert.equal(line?.usage_estimated, true);
  assert.ok((line?.prompt_tokens as number) > 0);
});

test('primary down: the backup serves every request, and the open breaker spares the primary', async () => {
  const server = await gateway({
    reliability: { breaker: { consecutive_failures: 3, cooldown_ms: 60_000 } },
    providers: [sim('primary', { faults: ['status=503'] }), sim('backup')],
    routes: [chain('chat', 'primary', 'backup')],
  });
  const statuses = [];
  for (let index = 0; index < 30; index++) statuses.push((await ask(server, 'chat')).status);
  assert.ok(statuses.every((status) => status === 200));
  assert.equal(server.sim('backup').stats().chat, 30);
  assert.equal(server.sim('primary').stats().chat, 3, 'three failures open the breaker; then no more calls');
  const ready = (await (await fetch(`${server.url}/ready`)).json()) as { breakers: Record<string, string> };
  assert.equal(ready.breakers['primary/sim-fast'], 'open');
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /breakwater_breaker_state\{deployment="primary\/sim-fast"\} 2/);
  assert.match(metrics, /breakwater_upstream_attempts_total\{provider="backup",model="sim-fast",role="fallback",outcome="success"\} 3/);
});

test('the breaker opens after the configured failures and lets exactly the configured probes through after the cool-down', async () => {
  const server = await gateway({
    reliability: { max_attempts: 1, breaker: { consecutive_failures: 3, cooldown_ms: 300, half_open_probes: 2 } },
    providers: [sim('sick', { faults: ['status=500'], latency: { first_token_ms: 100 } })],
    routes: [chain('chat', 'sick')],
  });
  for (let index = 0; index < 3; index++) assert.equal((await ask(server, 'chat')).status, 502);
  const refused = await ask(server, 'chat');
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('x-breakwater-error-code'), 'BW_ERR_NO_HEALTHY_UPSTREAM');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.equal(server.sim('sick').stats().chat, 3);
  await new Promise((resolve) => setTimeout(resolve, 350));
  const burst = await Promise.all(Array.from({ length: 6 }, () => ask(server, 'chat')));
  assert.equal(server.sim('sick').stats().chat, 5, 'exactly two probes');
  assert.equal(burst.filter((response) => response.status === 502).length, 2);
  assert.equal(burst.filter((response) => response.status === 503).length, 4);
});

test('a context-length error falls back to the larger-context candidate', async () => {
  const server = await gateway({
    providers: [sim('small', { faults: ['status=400;code=context_length_exceeded'] }), sim('same'), sim('large')],
    routes: [
      {
        model: 'chat',
        candidates: [
          { provider: 'small', model: 'sim-fast', context_window: 8_192 },
          { provider: 'same', model: 'sim-fast', context_window: 8_192 },
          { provider: 'large', model: 'sim-smart', context_window: 200_000 },
        ],
      },
    ],
  });
  const response = await ask(server, 'chat');
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-breakwater-provider'), 'large');
  assert.equal(server.sim('same').stats().chat, 0);
});

test('every candidate down: a fast 503 with Retry-After and each candidate\'s reason', async () => {
  const server = await gateway({ reliability: { max_attempts: 2 }, providers: [sim('a', { faults: ['status=503'] }), sim('b', { faults: ['status=502'] })], routes: [chain('chat', 'a', 'b')] });
  const response = await ask(server, 'chat');
  assert.equal(response.status, 503);
  assert.ok(response.headers.get('retry-after'));
  const message = (response.json() as { error: { message: string } }).error.message;
  assert.match(message, /a\/sim-fast: .*503/);
  assert.match(message, /b\/sim-fast: .*502/);
});

test('x-breakwater-timeout-ms lowers the deadline for every attempt together', async () => {
  const server = await gateway({ providers: [sim('slow', { faults: ['hang=before-headers'] }), sim('slower', { faults: ['hang=before-headers'] })], routes: [chain('chat', 'slow', 'slower')] });
  const started = performance.now();
  const response = await ask(server, 'chat', {}, { 'x-breakwater-timeout-ms': '300' });
  assert.equal(response.status, 504);
  assert.equal(response.headers.get('x-breakwater-error-code'), 'BW_ERR_DEADLINE_EXCEEDED');
  assert.ok(performance.now() - started < 2_000);
});
