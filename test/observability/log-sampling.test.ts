// Sampling of successful request lines: routine lines thin out as configured; errors are always written.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { channel } from 'node:diagnostics_channel';
import { createLogger, isoNow, RequestLog } from '../../src/observability/logging.js';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gateway: TestGateway;

before(async () => {
  gateway = await startTestGateway({ logging: { success_sample_rate: 0 } });
});

after(() => gateway.close());

function requestLines(): Array<Record<string, unknown>> {
  return gateway.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'request');
}

test('with success_sample_rate 0, successes write no line but errors still do, without a trace id when tracing is off', async () => {
  for (let index = 0; index < 3; index++) {
    const response = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'sim-fast', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': `ok-${index}` });
    assert.equal(response.status, 200);
  }
  const missing = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'missing-1' });
  assert.equal(missing.status, 404);
  const failed = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'sim-fast', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'failed-1', 'x-sim-fault': 'status=400' });
  assert.equal(failed.status, 400);
  const ids = requestLines().map((line) => line.request_id);
  assert.deepEqual(ids.sort(), ['failed-1', 'missing-1']);
  assert.ok(requestLines().every((line) => line.trace_id === undefined));
});

test('the sample rate is validated: above 1 is a config error', async () => {
  await assert.rejects(startTestGateway({ logging: { success_sample_rate: 1.5 } }), /success_sample_rate/);
});

test('the request line keeps pino layout (level, time, service first; msg last) for an error answer', async () => {
  const model = 'no"such\\model\n\u2028é';
  const response = await postJson(`${gateway.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'hostile-1' });
  assert.equal(response.status, 404);
  const raw = gateway.logs.find((line) => line.includes('"hostile-1"'));
  assert.ok(raw, 'a line for the request');
  assert.ok(!raw.slice(0, -1).includes('\n'), 'one physical line');
  const line = JSON.parse(raw) as Record<string, unknown>;
  assert.deepEqual(Object.keys(line).slice(0, 3), ['level', 'time', 'service']);
  assert.equal(Object.keys(line).at(-1), 'msg');
  assert.equal(line.level, 30);
  assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(Math.abs(Date.parse(String(line.time)) - Date.now()) < 60_000);
  assert.equal(line.status, 404);
  assert.equal(line.error_code, 'BW_ERR_MODEL_NOT_FOUND');
});

test('strings a client can influence are escaped in the hand-built line', () => {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => lines.push(line) });
  const log = new RequestLog(logger, 987_654);
  try {
    const model = 'pass"through\\model\n\u2028é';
    channel('breakwater:request:end').publish({ gatewayId: 987_654, requestId: 'r-1', method: 'POST', route: '/v1/chat/completions', model, provider: 'p', stream: false, status: 200, durationMs: 1.234, promptTokens: 3, completionTokens: 4, cache: 'miss' });
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(line.model, model);
    assert.equal(line.latency_ms, 1.23);
    assert.equal(line.cache, 'miss');
    assert.equal(line.msg, 'request');
  } finally {
    log.close();
  }
});

test('isoNow matches Date#toISOString at every millisecond boundary', () => {
  for (const at of [0, 1, 9, 10, 99, 100, 999, 1000, 1_795_440_393_007, 1_795_440_393_070, 1_795_440_393_700, 1_795_440_394_000]) {
    assert.equal(isoNow(at), new Date(at).toISOString());
  }
});
