// A client that goes away mid-request aborts the upstream call within a second.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let server: TestGateway;

before(async () => {
  server = await startTestGateway({ providers: [{ name: 'sim', type: 'sim', models: ['sim-slow'], latency: { first_token_ms: 0, per_token_ms: 200 } }] });
});
after(() => server.close());

async function waitFor(condition: () => boolean, withinMs: number): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > withinMs) throw new Error(`condition not met within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - started;
}

test('disconnecting mid-stream aborts the upstream stream within a second', async () => {
  const sim = server.sim();
  const abortedBefore = sim.stats().aborted;
  const controller = new AbortController();
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim-slow', stream: true, messages: [{ role: 'user', content: 'a long story please' }] }),
    signal: controller.signal,
  });
  const reader = response.body?.getReader();
  assert.ok(reader);
  await reader.read(); // the first chunk has arrived: the stream is live upstream
  assert.equal(sim.stats().inFlight, 1);
  controller.abort();
  const took = await waitFor(() => sim.stats().aborted > abortedBefore, 1000);
  assert.ok(took < 1000);
  await waitFor(() => sim.stats().inFlight === 0, 1000);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /breakwater_requests_in_flight\{route="\/v1\/chat\/completions"\} 0/);
});

test('disconnecting while waiting for a non-streamed answer aborts the upstream call too', async () => {
  const sim = server.sim();
  const abortedBefore = sim.stats().aborted;
  const controller = new AbortController();
  const pending = fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-sim-fault': 'hang=before-headers' },
    body: JSON.stringify({ model: 'sim-slow', messages: [{ role: 'user', content: 'x' }] }),
    signal: controller.signal,
  }).catch((error: unknown) => error);
  await waitFor(() => sim.stats().inFlight === 1, 1000);
  controller.abort();
  await pending;
  await waitFor(() => sim.stats().aborted > abortedBefore, 1000);
});
