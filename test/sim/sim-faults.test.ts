// Every scripted fault the simulator can inject, as a client sees it, plus config-level faults and prompt shutdown.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startSimServer, type SimServer } from '../../src/sim/index.js';
import { chatBody, chatPath, post, readEvents, waitForStats } from './sim-test-helpers.js';

let sim: SimServer;

before(async () => {
  sim = await startSimServer({ name: 'faulty' });
});
beforeEach(() => sim.reset());
after(() => sim.close());

const streamBody = chatBody('a streamed answer', { stream: true, max_tokens: 6 });
const fault = (spec: string, key?: string): Record<string, string> => ({ 'x-sim-fault': spec, ...(key ? { 'x-sim-fault-key': key } : {}) });

describe('status faults', () => {
  it('responds with the status, an envelope typed by status, and Retry-After verbatim', async () => {
    const retryAfters = ['7', 'Wed, 21 Oct 2015 07:28:00 GMT', 'not-a-number'];
    for (const retryAfter of retryAfters) {
      const response = await post(sim, chatPath, chatBody('hi'), fault(`status=429;retry-after=${retryAfter};code=rate_limit_exceeded`));
      assert.equal(response.status, 429);
      assert.equal(response.headers.get('retry-after'), retryAfter);
      const body = (await response.json()) as { error: { type: string; code: unknown; param: unknown; message: string } };
      assert.deepEqual(body.error, { message: 'Simulated fault: 429 Too Many Requests', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' });
    }
    const server = await post(sim, chatPath, chatBody('hi'), fault('status=503'));
    assert.equal(server.status, 503);
    assert.equal(server.headers.get('retry-after'), null);
    assert.deepEqual(((await server.json()) as { error: unknown }).error, { message: 'Simulated fault: 503 Service Unavailable', type: 'server_error', param: null, code: null });
    const client = await post(sim, chatPath, chatBody('hi'), fault('status=400;code=context_length_exceeded'));
    assert.equal(((await client.json()) as { error: { type: string; code: string } }).error.type, 'invalid_request_error');
    const embeddings = await post(sim, '/v1/embeddings', { model: 'sim-embed', input: 'x' }, fault('status=500'));
    assert.equal(embeddings.status, 500);
    await embeddings.text();
    assert.equal(sim.stats().faulted, 6);
  });

  it('applies times=N to the first N requests per spec and fault key, then succeeds', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const response = await post(sim, chatPath, chatBody('retry me'), fault('status=503;times=2', 'test-a'));
      await response.text();
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, [503, 503, 200, 200]);
    const otherKey = await post(sim, chatPath, chatBody('retry me'), fault('status=503;times=2', 'test-b'));
    await otherKey.text();
    assert.equal(otherKey.status, 503, 'a different x-sim-fault-key has its own count');
    sim.reset();
    const afterReset = await post(sim, chatPath, chatBody('retry me'), fault('status=503;times=2', 'test-a'));
    await afterReset.text();
    assert.equal(afterReset.status, 503, 'reset restarts the counts');
  });
});

describe('hangs, cuts and stalls', () => {
  it('hang=before-headers never responds; the client times out and the sim counts it aborted', async () => {
    const started = performance.now();
    await assert.rejects(post(sim, chatPath, chatBody('hang'), fault('hang=before-headers'), AbortSignal.timeout(150)), { name: 'TimeoutError' });
    assert.ok(performance.now() - started >= 140);
    const stats = await waitForStats(sim, (current) => current.aborted === 1);
    assert.equal(stats.inFlight, 0, 'the hung request is cleaned up once the client leaves');
    assert.equal(stats.faulted, 1);
  });

  it('hang=after-headers sends 200 headers (SSE for streams) and then nothing', async () => {
    const streamed = await post(sim, chatPath, streamBody, fault('hang=after-headers'), AbortSignal.timeout(200));
    assert.equal(streamed.status, 200);
    assert.equal(streamed.headers.get('content-type'), 'text/event-stream');
    const read = await readEvents(streamed);
    assert.deepEqual(read.events, []);
    assert.equal((read.error as Error).name, 'TimeoutError');

    const plain = await post(sim, chatPath, chatBody('hang'), fault('hang=after-headers'), AbortSignal.timeout(150));
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get('content-type'), 'application/json');
    await assert.rejects(plain.text(), { name: 'TimeoutError' });
    await waitForStats(sim, (current) => current.aborted === 2 && current.inFlight === 0);
  });

  it('cut-after=K sends K chunks (role first) then drops the connection without [DONE]', async () => {
    for (const chunksBeforeCut of [0, 1, 3]) {
      const response = await post(sim, chatPath, streamBody, fault(`cut-after=${chunksBeforeCut}`));
      assert.equal(response.status, 200);
      const { events, error } = await readEvents(response);
      assert.equal(events.length, chunksBeforeCut);
      assert.ok(error instanceof Error, 'the body fails instead of ending');
      assert.ok(!events.includes('[DONE]'));
      if (chunksBeforeCut > 0) assert.equal(JSON.parse(events[0] ?? '').choices[0].delta.role, 'assistant');
    }
    const stats = await waitForStats(sim, (current) => current.inFlight === 0);
    assert.equal(stats.aborted, 0, 'a scripted cut is the sim finishing, not the client aborting');
    assert.equal(stats.completed, 3);
  });

  it('cut-after on a non-stream request sends half the JSON body then drops the connection', async () => {
    const response = await post(sim, chatPath, chatBody('cut me'), fault('cut-after=1'));
    assert.equal(response.status, 200);
    await assert.rejects(response.text());
  });

  it('stall-after=K sends K chunks then goes silent with the connection open', async () => {
    const response = await post(sim, chatPath, streamBody, fault('stall-after=2'), AbortSignal.timeout(200));
    const { events, error } = await readEvents(response);
    assert.equal(events.length, 2);
    assert.equal((error as Error).name, 'TimeoutError');
    await waitForStats(sim, (current) => current.aborted === 1 && current.inFlight === 0);
  });

  it('connection=reset drops the connection as soon as the request arrives', async () => {
    await assert.rejects(post(sim, chatPath, chatBody('reset'), fault('connection=reset')), TypeError);
    const after = await post(sim, chatPath, chatBody('fine'));
    assert.equal(after.status, 200, 'the next request succeeds on a new connection');
    await after.text();
  });
});

describe('bad bodies and pacing', () => {
  it('malformed gives invalid JSON: the whole body, or the second stream chunk', async () => {
    const plain = await post(sim, chatPath, chatBody('garble'), fault('malformed'));
    assert.equal(plain.status, 200);
    const text = await plain.text();
    assert.throws(() => JSON.parse(text));

    const streamed = await post(sim, chatPath, streamBody, fault('malformed'));
    const { events, error } = await readEvents(streamed);
    assert.equal(error, undefined);
    assert.equal(events.at(-1), '[DONE]');
    assert.throws(() => JSON.parse(events[1] ?? ''));
    for (const event of [events[0], ...events.slice(2, -1)]) assert.doesNotThrow(() => JSON.parse(event ?? ''));
  });

  it('content-type=<value> sends a 200 with that type and an HTML body', async () => {
    const response = await post(sim, chatPath, streamBody, fault('content-type=text/html'));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/html');
    assert.match(await response.text(), /^<html>.*bad gateway/s);
  });

  it('trickle=<ms> paces every chunk of an otherwise normal stream', async () => {
    const started = performance.now();
    const response = await post(sim, chatPath, chatBody('slowly', { stream: true, max_tokens: 2 }), fault('trickle=30'));
    const { events, arrivals, error } = await readEvents(response);
    assert.equal(error, undefined);
    // role, 2 tokens, finish, [DONE]: five events, four gaps.
    assert.equal(events.length, 5);
    assert.equal(events.at(-1), '[DONE]');
    assert.ok(performance.now() - started >= 4 * 30 - 10);
    for (let index = 1; index < arrivals.length; index++) {
      const gap = (arrivals[index] ?? 0) - (arrivals[index - 1] ?? 0);
      assert.ok(gap >= 15, `gap ${index} was ${gap.toFixed(1)} ms`);
    }
  });
});

describe('configured faults and shutdown', () => {
  it('applies configured faults in order to requests without a fault header, honouring times and filters', async () => {
    const configured = await startSimServer({
      faults: ['status=503;times=2', { endpoint: 'embeddings', status: 500 }, 'model=sim-smart;status=429;retry-after=1'],
    });
    try {
      const statusOf = async (response: Promise<Response>): Promise<number> => {
        const settled = await response;
        await settled.text();
        return settled.status;
      };
      const chat = (model: string, headers: Record<string, string> = {}): Promise<number> =>
        statusOf(post(configured, chatPath, chatBody('configured', { model }), headers));
      assert.deepEqual([await chat('sim-fast'), await chat('sim-fast'), await chat('sim-fast')], [503, 503, 200]);
      assert.equal(await chat('sim-smart'), 429);
      assert.equal(await statusOf(post(configured, '/v1/embeddings', { model: 'sim-embed', input: 'x' })), 500);
      assert.equal(await chat('sim-smart', fault('none')), 200, 'a fault header replaces the configured faults');
      assert.equal(configured.stats().faulted, 4);
    } finally {
      await configured.close();
    }
  });

  it('rejects a bad configured fault with the parse error', async () => {
    await assert.rejects(startSimServer({ faults: ['status=503', 'explode'] }), /faults\[1\]: unknown fault key "explode"/);
    await assert.rejects(startSimServer({ faults: [{ status: 503, hang: 'before-headers' }] }), /combines "status" and "hang"/);
  });

  it('close() returns promptly even with a hung request open', async () => {
    const closing = await startSimServer();
    const hung = post(closing, chatPath, chatBody('hang'), fault('hang=before-headers'));
    await waitForStats(closing, (current) => current.inFlight === 1);
    const started = performance.now();
    await closing.close();
    assert.ok(performance.now() - started < 500, 'close did not wait for the hung client');
    await assert.rejects(hung, TypeError);
  });
});
