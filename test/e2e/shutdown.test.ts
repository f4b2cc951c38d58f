// Graceful shutdown: SIGTERM turns /ready 503, stops new connections, lets open streams finish, then exits 0.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { test } from 'node:test';
import { sseData, startTestGateway } from '../helpers/gateway.js';
import { startReplica } from './replicas-support.js';

interface Child {
  process: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function startChild(yaml: string): Promise<Child> {
  const replica = await startReplica(yaml);
  const exited = new Promise<number | null>((resolve) => {
    if (replica.process.exitCode !== null) resolve(replica.process.exitCode);
    else replica.process.once('exit', (code) => resolve(code));
  });
  return { process: replica.process, url: replica.url, output: replica.output, exited };
}

const slowSim = (drainSeconds: number) =>
  ['server:', `  drain_seconds: ${drainSeconds}`, 'providers:', '  - name: sim', '    type: sim', '    models: [sim-slow]', '    latency: { first_token_ms: 0, per_token_ms: 40 }'].join('\n');

async function openStream(url: string, max_tokens = 30, headers: Record<string, string> = {}): Promise<{ reader: ReadableStreamDefaultReader<Uint8Array>; rest: () => Promise<string> }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'sim-slow', stream: true, max_tokens, messages: [{ role: 'user', content: `a story ${Math.random()}` }] }),
  });
  const reader = response.body?.getReader();
  assert.ok(reader);
  const first = await reader.read();
  const decoder = new TextDecoder();
  let text = decoder.decode(first.value);
  return {
    reader,
    rest: async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += decoder.decode(value, { stream: true });
      }
    },
  };
}

test('SIGTERM with open streams: they drain to [DONE], new connections are refused, exit code 0', { timeout: 30_000 }, async () => {
  const child = await startChild(slowSim(10));
  try {
    const streams = await Promise.all([openStream(child.url), openStream(child.url), openStream(child.url)]);
    child.process.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 150));
    await assert.rejects(fetch(`${child.url}/health`), 'the listener no longer accepts connections');
    const bodies = await Promise.all(streams.map((stream) => stream.rest()));
    for (const body of bodies) assert.equal(sseData(body).at(-1), '[DONE]', 'each open stream finished whole');
    assert.equal(await child.exited, 0);
    assert.match(child.output(), /drained/);
  } finally {
    child.process.kill('SIGKILL');
  }
});

test('the drain period is bounded, and a second signal exits at once', { timeout: 30_000 }, async () => {
  const bounded = await startChild(slowSim(1));
  try {
    const stream = await openStream(bounded.url, 30, { 'x-sim-fault': 'stall-after=2' }); // never finishes on its own
    const started = performance.now();
    bounded.process.kill('SIGTERM');
    const body = await stream.rest().catch(() => 'cut');
    assert.notEqual(sseData(body).at(-1), '[DONE]');
    assert.equal(await bounded.exited, 0);
    assert.ok(performance.now() - started < 5_000, 'exited soon after the drain period');
  } finally {
    bounded.process.kill('SIGKILL');
  }
  const impatient = await startChild(slowSim(20));
  try {
    const stream = await openStream(impatient.url, 30, { 'x-sim-fault': 'stall-after=2' });
    const started = performance.now();
    impatient.process.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    impatient.process.kill('SIGTERM');
    assert.equal(await impatient.exited, 1);
    assert.ok(performance.now() - started < 3_000);
    await stream.rest().catch(() => undefined);
  } finally {
    impatient.process.kill('SIGKILL');
  }
});

test('/ready answers 503 from the signal on; during the shutdown delay requests are still served, then the listener closes', async () => {
  const server = await startTestGateway({
    server: { shutdown_delay_seconds: 0.5 },
    providers: [{ name: 'sim', type: 'sim', models: ['sim-slow'], latency: { first_token_ms: 0, per_token_ms: 30 } }],
  });
  assert.equal((await fetch(`${server.url}/ready`)).status, 200);
  const stream = await openStream(server.url, 25);
  const closing = server.gateway.shutdown(5);
  const draining = await fetch(`${server.url}/ready`);
  assert.equal(draining.status, 503);
  assert.equal(((await draining.json()) as { draining: boolean }).draining, true);
  const served = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim-slow', max_tokens: 2, messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.equal(served.status, 200, 'lame duck: traffic still routed here is served');
  await new Promise((resolve) => setTimeout(resolve, 700));
  await assert.rejects(fetch(`${server.url}/ready`), 'after the delay the listener is closed');
  assert.equal(sseData(await stream.rest()).at(-1), '[DONE]');
  await closing;
});
