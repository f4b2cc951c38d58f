// Every simulator fault, through the real server, becomes the client-visible error a user would expect.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { postJson, sseData, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let server: TestGateway;
let closedPort: number;

before(async () => {
  // A port that refuses connections: bound, then released.
  closedPort = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  server = await startTestGateway({
    // One attempt per request: these tests check how each fault is mapped, not the retries (test/e2e/reliability-*.test.ts).
    // A 1 ms breaker cool-down: the 401 case opens the breaker at once, and the next case must find it closed again.
    reliability: { max_attempts: 1, breaker: { cooldown_ms: 1, max_cooldown_ms: 1 } },
    providers: [
      { name: 'sim', type: 'sim', models: ['sim-fast'], timeouts: { first_byte_ms: 300, idle_ms: 300 } },
      // A Retry-After makes the gateway leave that deployment alone until it passes: those cases get their own.
      { name: 'sim-cool-1', type: 'sim', models: ['cool-1'] },
      { name: 'sim-cool-2', type: 'sim', models: ['cool-2'] },
      { name: 'sim-cool-3', type: 'sim', models: ['cool-3'] },
      { name: 'gone', type: 'openai-compatible', base_url: `http://127.0.0.1:${closedPort}/v1`, models: ['gone-model'] },
    ],
  });
});
after(() => server.close());

const chat = (fault: string, extra: Record<string, unknown> = {}) =>
  postJson(`${server.url}/v1/chat/completions`, { model: 'sim-fast', messages: [{ role: 'user', content: `fault ${fault}` }], ...extra }, { 'x-sim-fault': fault });

const providerOf: Record<string, string> = { 'sim-fast': 'sim', 'cool-1': 'sim-cool-1', 'cool-2': 'sim-cool-2', 'cool-3': 'sim-cool-3' };

function errorOf(value: unknown): { message: string; type: string; code: string | null; param: string | null } {
  const error = (value as { error?: { message: string; type: string; code: string | null; param: string | null } }).error;
  assert.ok(error, `expected an error envelope, got ${JSON.stringify(value)}`);
  return error;
}

async function upstreamCalls<T>(action: () => Promise<T>, provider = 'sim'): Promise<{ result: T; calls: number }> {
  const before = server.sim(provider).stats().chat;
  const result = await action();
  return { result, calls: server.sim(provider).stats().chat - before };
}

const statusCases: Array<{ fault: string; status: number; code: string; retryAfter?: string | null; model?: string }> = [
  { fault: 'status=429;retry-after=5', status: 429, code: 'BW_ERR_UPSTREAM_RATE_LIMITED', retryAfter: '5', model: 'cool-1' },
  { fault: 'status=429;retry-after=soon', status: 429, code: 'BW_ERR_UPSTREAM_RATE_LIMITED', retryAfter: null },
  { fault: 'status=500', status: 502, code: 'BW_ERR_UPSTREAM_SERVER_ERROR' },
  { fault: 'status=502', status: 502, code: 'BW_ERR_UPSTREAM_SERVER_ERROR' },
  { fault: 'status=503;retry-after=2', status: 503, code: 'BW_ERR_UPSTREAM_UNAVAILABLE', retryAfter: '2', model: 'cool-2' },
  { fault: 'status=504', status: 504, code: 'BW_ERR_UPSTREAM_TIMEOUT' },
  { fault: 'status=401', status: 502, code: 'BW_ERR_UPSTREAM_AUTH' },
  { fault: 'status=403', status: 502, code: 'BW_ERR_UPSTREAM_AUTH' },
  { fault: 'status=404', status: 404, code: 'BW_ERR_UPSTREAM_REJECTED' },
  { fault: 'status=422', status: 422, code: 'BW_ERR_UPSTREAM_REJECTED' },
];

for (const testCase of statusCases) {
  test(`upstream ${testCase.fault} → HTTP ${testCase.status} ${testCase.code}, one upstream call`, async () => {
    const model = testCase.model ?? 'sim-fast';
    const provider = providerOf[model] ?? 'sim';
    const { result, calls } = await upstreamCalls(() => chat(testCase.fault, { model }), provider);
    assert.equal(result.status, testCase.status);
    assert.equal(result.headers.get('x-breakwater-error-code'), testCase.code);
    assert.equal(result.headers.get('x-breakwater-provider'), provider);
    errorOf(result.json());
    if (testCase.retryAfter !== undefined) assert.equal(result.headers.get('retry-after'), testCase.retryAfter);
    assert.equal(calls, 1);
  });
}

test('an HTTP-date Retry-After is passed on in seconds', async () => {
  const date = new Date(Date.now() + 30_000).toUTCString();
  const result = await chat(`status=429;retry-after=${date}`, { model: 'cool-3' });
  assert.equal(result.status, 429);
  const seconds = Number(result.headers.get('retry-after'));
  assert.ok(seconds >= 28 && seconds <= 31, `retry-after ${seconds}`);
});

test('an upstream 400 keeps its code and param (context_length_exceeded stays recognisable)', async () => {
  const result = await chat('status=400;code=context_length_exceeded');
  assert.equal(result.status, 400);
  assert.equal(errorOf(result.json()).code, 'context_length_exceeded');
});

test('hang before headers → 504 after the first-byte timeout', async () => {
  const started = performance.now();
  const result = await chat('hang=before-headers');
  assert.equal(result.status, 504);
  assert.equal(result.headers.get('x-breakwater-error-code'), 'BW_ERR_UPSTREAM_TIMEOUT');
  assert.match(errorOf(result.json()).message, /first-byte timeout/);
  assert.ok(performance.now() - started < 2000);
});

test('hang after headers → 504 after the idle timeout, streaming or not', async () => {
  for (const stream of [false, true]) {
    const result = await chat('hang=after-headers', { stream });
    assert.equal(result.status, 504, `stream=${stream}`);
    assert.match(errorOf(result.json()).message, /idle timeout/);
  }
});

test('malformed JSON, a wrong content type and a reset connection → 502', async () => {
  for (const fault of ['malformed', 'content-type=text/html', 'connection=reset', 'cut-after=1']) {
    const result = await chat(fault);
    assert.equal(result.status, 502, fault);
    errorOf(result.json());
  }
});

test('connection refused → 502 BW_ERR_UPSTREAM_CONNECTION at once', async () => {
  const started = performance.now();
  const result = await postJson(`${server.url}/v1/chat/completions`, { model: 'gone-model', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(result.status, 502);
  assert.equal(result.headers.get('x-breakwater-error-code'), 'BW_ERR_UPSTREAM_CONNECTION');
  assert.ok(performance.now() - started < 1000);
});

test('a stream failing before its first chunk gets a normal HTTP error', async () => {
  const result = await chat('status=503', { stream: true });
  assert.equal(result.status, 503);
  errorOf(result.json());
});

test('a stream cut after K chunks ends with an error event, never a silent truncation or [DONE]', async () => {
  const result = await chat('cut-after=3', { stream: true });
  assert.equal(result.status, 200);
  const events = sseData(result.text);
  assert.notEqual(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1).map((event) => JSON.parse(event) as { choices: unknown[] });
  assert.equal(chunks.length, 3, 'the 3 chunks the upstream sent are relayed');
  const final = errorOf(JSON.parse(events.at(-1) ?? '{}'));
  assert.equal(final.code, 'BW_ERR_STREAM_INTERRUPTED');
});

test('a stream that goes silent ends with an error event after the idle timeout', async () => {
  const result = await chat('stall-after=2', { stream: true });
  assert.equal(result.status, 200);
  const events = sseData(result.text);
  assert.equal(events.length, 3);
  assert.match(errorOf(JSON.parse(events.at(-1) ?? '{}')).message, /idle timeout/);
});

test('a malformed stream chunk ends the stream with an error event', async () => {
  const result = await chat('malformed', { stream: true });
  assert.equal(result.status, 200);
  const events = sseData(result.text);
  assert.match(errorOf(JSON.parse(events.at(-1) ?? '{}')).message, /malformed/);
});

test('a slow trickle is relayed whole', async () => {
  const result = await chat('trickle=5', { stream: true });
  assert.equal(result.status, 200);
  assert.equal(sseData(result.text).at(-1), '[DONE]');
});

test('upstream errors are counted by kind in /metrics', async () => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  for (const kind of ['rate_limited', 'server_error', 'unavailable', 'auth', 'rejected', 'timeout_first_byte', 'timeout_idle', 'bad_response', 'connection', 'stream_cut']) {
    assert.match(text, new RegExp(`breakwater_upstream_errors_total\\{provider="(sim|sim-cool-\\d|gone)",kind="${kind}"\\} [1-9]`), kind);
  }
});
