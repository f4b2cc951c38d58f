// Sampling of successful request lines: routine lines thin out as configured; errors are always written.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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
