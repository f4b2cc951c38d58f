// The HTTP surface over a real socket: envelopes for every client error, headers, SSE framing, and what the logs hold.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { postJson, sseData, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const masterKey = 'sk-master-e2e-abcdefghijklmnop';
const secretPrompt = 'my-secret-prompt-text-7f3a';
let server: TestGateway;
const auth = { authorization: `Bearer ${masterKey}` };

before(async () => {
  server = await startTestGateway({ auth: { master_key: masterKey }, server: { body_limit_bytes: 4096 } });
});
after(() => server.close());

function assertEnvelope(value: unknown, code?: string): { message: string; type: string; param: string | null; code: string | null } {
  const error = (value as { error?: { message: string; type: string; param: string | null; code: string | null } }).error;
  assert.ok(error, 'OpenAI error envelope');
  assert.equal(typeof error.message, 'string');
  assert.equal(typeof error.type, 'string');
  assert.ok('param' in error && 'code' in error);
  if (code) assert.equal(error.code, code);
  return error;
}

test('401 without or with a wrong key, in the envelope; probes need no key', async () => {
  const missing = await postJson(`${server.url}/v1/chat/completions`, { model: 'sim-fast', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(missing.status, 401);
  assertEnvelope(missing.json(), 'invalid_api_key');
  const wrong = await postJson(`${server.url}/v1/chat/completions`, { model: 'sim-fast', messages: [] }, { authorization: 'Bearer nope' });
  assert.equal(wrong.status, 401);
  const viaHeader = await postJson(`${server.url}/v1/chat/completions`, { model: 'sim-fast', messages: [{ role: 'user', content: 'x' }] }, { 'x-api-key': masterKey });
  assert.equal(viaHeader.status, 200);
  assert.equal((await fetch(`${server.url}/health`)).status, 200);
  assert.equal((await fetch(`${server.url}/ready`)).status, 200);
});

test('400 names the field; invalid JSON is refused clearly whatever the declared type', async () => {
  const bad = await postJson(`${server.url}/v1/chat/completions`, { model: 'sim-fast', messages: [{ role: 'user', content: 'x' }], temperature: 9 }, auth);
  assert.equal(bad.status, 400);
  const error = assertEnvelope(bad.json(), 'BW_ERR_INVALID_REQUEST');
  assert.equal(error.param, 'temperature');
  assert.equal(error.type, 'invalid_request_error');
  const broken = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"model":' });
  assert.equal(broken.status, 400);
  assertEnvelope(await broken.json());
  const text = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'hello' });
  assert.equal(text.status, 400);
  assert.equal(assertEnvelope(await text.json()).param, 'body');
  // `curl -d` declares form-urlencoded: a JSON body is still understood.
  const form = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: JSON.stringify({ model: 'sim-fast', messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.equal(form.status, 200);
});

test('413 for a body over the limit, without reading it all (declared length and chunked)', async () => {
  const big = 'x'.repeat(10_000);
  const declared = await postJson(`${server.url}/v1/chat/completions`, { model: 'sim-fast', messages: [{ role: 'user', content: big }] }, auth);
  assert.equal(declared.status, 413);
  assertEnvelope(declared.json(), 'BW_ERR_BODY_TOO_LARGE');
  // Chunked upload with no content-length: refused once the limit is crossed, while the client is still sending.
  // The client sends past the 4 KiB limit and then holds the body open (never ending it): the answer must come
  // without the rest. It stops writing there so that the server closing the connection after its 413 cannot meet a
  // write in flight (EPIPE on the client's side, a race of the test, not of the gateway).
  const status = await new Promise<number>((resolve, reject) => {
    const url = new URL(`${server.url}/v1/chat/completions`);
    const outgoing = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
      outgoing.destroy();
    });
    outgoing.on('error', reject);
    outgoing.write('{"model":"sim-fast","messages":[{"role":"user","content":"');
    for (let sent = 0; sent < 16_384; sent += 2048) outgoing.write('y'.repeat(2048));
    // A gateway that waited for the whole body would never answer: fail instead of hanging the suite.
    setTimeout(() => {
      outgoing.destroy();
      reject(new Error('no answer while the body was still open'));
    }, 10_000).unref();
  });
  assert.equal(status, 413);
});

test('404 and 405 in the envelope', async () => {
  const missing = await fetch(`${server.url}/v1/nothing-here`, { headers: auth });
  assert.equal(missing.status, 404);
  assertEnvelope(await missing.json());
  const wrongMethod = await fetch(`${server.url}/v1/chat/completions`, { headers: auth });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'POST');
  assertEnvelope(await wrongMethod.json(), 'BW_ERR_METHOD_NOT_ALLOWED');
  const unknownModel = await postJson(`${server.url}/v1/chat/completions`, { model: 'gpt-nope', messages: [{ role: 'user', content: 'x' }] }, auth);
  assert.equal(unknownModel.status, 404);
  assert.equal(assertEnvelope(unknownModel.json(), 'model_not_found').param, 'model');
});

test('x-request-id is honoured or generated; provider and model headers are set', async () => {
  const given = await postJson(`${server.url}/v1/chat/completions`, { model: 'sim-fast', messages: [{ role: 'user', content: 'hi' }] }, { ...auth, 'x-request-id': 'req-abc-123' });
  assert.equal(given.status, 200);
  assert.equal(given.headers.get('x-request-id'), 'req-abc-123');
  assert.equal(given.headers.get('x-breakwater-provider'), 'sim');
  assert.equal(given.headers.get('x-breakwater-model'), 'sim-fast');
  const generated = await postJson(`${server.url}/v1/chat/completions`, { model: 'sim-fast', messages: [{ role: 'user', content: 'hi' }] }, { ...auth, 'x-request-id': 'bad id with spaces' });
  assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
});

test('SSE: no-cache, no proxy buffering, one event per chunk, usage only when asked, [DONE] last', async () => {
  const plain = await postJson(`${server.url}/v1/chat/completions`, { model: 'sim-fast', stream: true, messages: [{ role: 'user', content: 'stream please' }] }, auth);
  assert.equal(plain.status, 200);
  assert.match(plain.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(plain.headers.get('cache-control'), 'no-cache');
  assert.equal(plain.headers.get('x-accel-buffering'), 'no');
  assert.equal(plain.headers.get('x-breakwater-provider'), 'sim');
  const events = sseData(plain.text);
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1).map((event) => JSON.parse(event) as { object: string; choices: unknown[]; usage?: unknown });
  assert.ok(chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.choices.length === 1), 'no usage-only chunk when the client did not ask');
  assert.ok(chunks.every((chunk) => !('usage' in chunk)), 'no usage field at all, not even the `"usage":null` the upstream adds when asked for usage');
  const withUsage = await postJson(`${server.url}/v1/chat/completions`, { model: 'sim-fast', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream please' }] }, auth);
  const usageEvents = sseData(withUsage.text);
  const last = JSON.parse(usageEvents.at(-2) ?? '{}') as { choices: unknown[]; usage?: { completion_tokens: number } };
  assert.equal(last.choices.length, 0);
  assert.ok((last.usage?.completion_tokens ?? 0) > 0);
});

test('the log has one line per request with id, route, model, provider, status, latency, tokens — and no key or prompt text', async () => {
  await postJson(`${server.url}/v1/chat/completions`, { model: 'sim-fast', messages: [{ role: 'user', content: secretPrompt }] }, { ...auth, 'x-request-id': 'log-check-1' });
  await postJson(`${server.url}/v1/chat/completions`, { model: 'sim-fast', stream: true, messages: [{ role: 'user', content: secretPrompt }] }, { ...auth, 'x-request-id': 'log-check-2' });
  await postJson(`${server.url}/v1/chat/completions`, { model: 'sim-fast', messages: [{ role: 'user', content: secretPrompt }] }, { authorization: `Bearer ${masterKey}x` });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const line = server.logs.map((entry) => JSON.parse(entry) as Record<string, unknown>).find((entry) => entry.request_id === 'log-check-1');
  assert.ok(line, 'request line present');
  assert.equal(line.route, '/v1/chat/completions');
  assert.equal(line.model, 'sim-fast');
  assert.equal(line.provider, 'sim');
  assert.equal(line.status, 200);
  assert.equal(typeof line.latency_ms, 'number');
  assert.ok((line.completion_tokens as number) > 0 && (line.prompt_tokens as number) > 0);
  const streamed = server.logs.map((entry) => JSON.parse(entry) as Record<string, unknown>).find((entry) => entry.request_id === 'log-check-2');
  assert.ok(streamed && (streamed.completion_tokens as number) > 0 && typeof streamed.ttft_ms === 'number', 'streams are accounted from the usage the gateway asked for');
  const everything = server.logs.join('\n');
  assert.ok(!everything.includes(secretPrompt), 'prompt text never logged');
  assert.ok(!everything.includes(masterKey), 'keys never logged');
  // The completion text is deterministic: make sure none of it reached the log either.
  const completion = await postJson(`${server.url}/v1/chat/completions`, { model: 'sim-fast', messages: [{ role: 'user', content: secretPrompt }] }, auth);
  const content = (completion.json() as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content ?? '';
  assert.ok(content.length > 10 && !server.logs.join('\n').includes(content), 'completion text never logged');
});

test('metrics count requests by route, model, provider and status', async () => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(text, /breakwater_requests_total\{route="\/v1\/chat\/completions",model="sim-fast",provider="sim",status="200"\} \d+/);
  assert.match(text, /breakwater_request_duration_seconds_bucket/);
  assert.match(text, /breakwater_time_to_first_token_seconds_bucket\{le="0.01",model="sim-fast",provider="sim"\}/);
  assert.match(text, /breakwater_requests_in_flight\{route="\/v1\/chat\/completions"\} 0/);
  assert.match(text, /breakwater_tokens_total\{model="sim-fast",provider="sim",type="output"\} \d+/);
});
