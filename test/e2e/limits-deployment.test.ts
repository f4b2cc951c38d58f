// Per-deployment quotas (rpm / tpm on a provider model entry or a route candidate) over HTTP against the simulator:
// a deployment over its quota is skipped for the next candidate without an upstream call; when every candidate is
// over quota the client gets a 429 with Retry-After; token reservations are reconciled with the real usage.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postJson, sseData, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const ask = (model: string, content: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content }], ...extra });

describe('deployment quotas (memory limiter)', () => {
  let gateway: TestGateway;

  before(async () => {
    gateway = await startTestGateway({
      providers: [
        { name: 'primary', type: 'sim', models: [] },
        { name: 'secondary', type: 'sim', models: [] },
        { name: 'left', type: 'sim', models: [] },
        { name: 'right', type: 'sim', models: [{ name: 'right-direct', model: 'sim-fast', rpm: 2 }] },
        { name: 'metered', type: 'sim', models: [{ name: 'metered', model: 'sim-fast', tpm: 1_000 }] },
      ],
      routes: [
        { model: 'spill', candidates: [{ provider: 'primary', model: 'sim-fast', rpm: 2 }, { provider: 'secondary', model: 'sim-fast' }] },
        // `right` takes its rpm from its provider model entry: the quota belongs to the deployment, shared with `right-direct`.
        { model: 'both-limited', candidates: [{ provider: 'left', model: 'sim-fast', rpm: 1 }, { provider: 'right', model: 'sim-fast' }] },
      ],
    });
  });
  after(() => gateway.close());

  const chat = (body: unknown) => postJson(`${gateway.url}/v1/chat/completions`, body);

  test('the first candidate serves up to its rpm, then the next one takes over without a call to the first', async () => {
    const providers: Array<string | null> = [];
    for (let index = 0; index < 3; index++) {
      const response = await chat(ask('spill', `spill ${index}`));
      assert.equal(response.status, 200, response.text);
      providers.push(response.headers.get('x-breakwater-provider'));
    }
    assert.deepEqual(providers, ['primary', 'primary', 'secondary']);
    assert.equal(gateway.sim('primary').stats().chat, 2, 'no third call reached the deployment over its quota');
    assert.equal(gateway.sim('secondary').stats().chat, 1);
    const line = gateway.logs.map((text) => JSON.parse(text) as Record<string, unknown>).find((entry) => entry.deployment === 'primary/sim-fast' && String(entry.msg).includes('quota'));
    assert.ok(line, 'a log line says why the deployment was skipped');
    assert.equal(line.kind, 'requests');
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    assert.match(metrics, /breakwater_deployment_quota_skips_total\{deployment="primary\/sim-fast",kind="requests"\} 1/);
  });

  test('every candidate over its quota: 429 in the OpenAI envelope, Retry-After = the soonest reset, no upstream call', async () => {
    // right/sim-fast (rpm 2) is used once directly, so the route spends left's one request and right's last one.
    assert.equal((await chat(ask('right-direct', 'direct'))).status, 200);
    assert.equal((await chat(ask('both-limited', 'one'))).headers.get('x-breakwater-provider'), 'left');
    assert.equal((await chat(ask('both-limited', 'two'))).headers.get('x-breakwater-provider'), 'right');
    const callsBefore = gateway.sim('left').stats().chat + gateway.sim('right').stats().chat;
    const refused = await chat(ask('both-limited', 'three'));
    assert.equal(refused.status, 429);
    const error = (refused.json() as { error: { type: string; code: string; message: string } }).error;
    assert.equal(error.type, 'rate_limit_error');
    assert.match(error.message, /left\/sim-fast: over its quota of 1 requests per minute/);
    assert.match(error.message, /right\/sim-fast: over its quota of 2 requests per minute/);
    // left refills one request in 60 s, right (rpm 2) one in 30 s: the sooner one is announced.
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter > 20 && retryAfter <= 30, `Retry-After ${retryAfter}`);
    assert.equal(gateway.sim('left').stats().chat + gateway.sim('right').stats().chat, callsBefore, 'no upstream was called');
  });

  test('token quotas reserve the estimate and give back what the answer did not use (JSON and streams)', async () => {
    // Each request reserves its prompt + max_tokens 600 of the 1,000 tokens per minute, but uses far fewer: without
    // the reconciliation the second request would be over the quota.
    for (let index = 0; index < 3; index++) {
      const response = await chat(ask('metered', `metered ${index}`, { max_tokens: 600 }));
      assert.equal(response.status, 200, response.text);
    }
    for (let index = 0; index < 2; index++) {
      const stream = await chat(ask('metered', `stream ${index}`, { max_tokens: 600, stream: true, stream_options: { include_usage: true } }));
      assert.equal(stream.status, 200, stream.text);
      assert.equal(sseData(stream.text).at(-1), '[DONE]');
    }
    assert.equal(gateway.sim('metered').stats().chat, 5);
  });
});
