// End to end: the exact cache over HTTP with the simulator upstream — JSON and SSE hits, cross-format hits,
// policy headers, tenant isolation, coalescing of concurrent misses, and never caching errors or cut streams.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestGateway } from '../helpers/gateway.js';
import { chat, chatBody, startCacheGateway, streamed, tenantHeader, upstreamChats } from '../cache/cache-gateway.js';

describe('exact cache (end to end)', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startCacheGateway({ store: 'sqlite' });
  });
  after(() => gateway.close());

  it('serves an identical deterministic JSON request from the cache: one upstream call, identical body', async () => {
    const body = chatBody('json twice');
    const before = upstreamChats(gateway);
    const first = await chat(gateway, body);
    const second = await chat(gateway, body);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-breakwater-cache'), 'miss');
    assert.equal(second.headers.get('x-breakwater-cache'), 'hit');
    assert.equal(second.headers.get('x-breakwater-provider'), 'cache');
    assert.equal(second.text, first.text);
    assert.equal(upstreamChats(gateway) - before, 1);
  });

  it('replays a streamed hit with the same chunk structure and content, usage included when asked', async () => {
    const body = chatBody('stream twice', { stream: true, stream_options: { include_usage: true } });
    const before = upstreamChats(gateway);
    const first = streamed((await chat(gateway, body)).text);
    const response = await chat(gateway, body);
    const second = streamed(response.text);
    assert.equal(response.headers.get('x-breakwater-cache'), 'hit');
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(upstreamChats(gateway) - before, 1);
    assert.ok(first.content.length > 0);
    assert.equal(second.content, first.content);
    assert.ok(second.done, 'ends with [DONE]');
    const choicesOf = (chunk: Record<string, unknown>) => chunk.choices as Array<{ delta: Record<string, unknown>; finish_reason: string | null }>;
    assert.equal(choicesOf(second.chunks[0] ?? {})[0]?.delta.role, 'assistant');
    const finish = second.chunks.at(-2) ?? {};
    assert.equal(choicesOf(finish)[0]?.finish_reason, choicesOf(first.chunks.at(-2) ?? {})[0]?.finish_reason);
    const usage = second.chunks.at(-1) ?? {};
    assert.deepEqual(choicesOf(usage), []);
    assert.deepEqual(usage.usage, first.chunks.at(-1)?.usage);
    for (const chunk of second.chunks) assert.equal(chunk.object, 'chat.completion.chunk');
  });

  it('strips usage from a replayed stream when the client did not ask for it', async () => {
    const body = chatBody('stream without usage', { stream: true });
    await chat(gateway, body);
    const hit = streamed((await chat(gateway, body)).text);
    assert.ok(hit.chunks.every((chunk) => chunk.usage === undefined || chunk.usage === null));
  });

  it('serves a streamed miss to a later JSON request, and a JSON miss to a later stream', async () => {
    const before = upstreamChats(gateway);
    const streamedMiss = streamed((await chat(gateway, chatBody('stream then json', { stream: true }))).text);
    const jsonHit = await chat(gateway, chatBody('stream then json'));
    assert.equal(jsonHit.headers.get('x-breakwater-cache'), 'hit');
    const completion = jsonHit.json() as { object: string; choices: Array<{ message: { content: string; role: string } }> };
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices[0]?.message.role, 'assistant');
    assert.equal(completion.choices[0]?.message.content, streamedMiss.content);

    const jsonMiss = (await chat(gateway, chatBody('json then stream'))).json() as { choices: Array<{ message: { content: string } }> };
    const streamHit = await chat(gateway, chatBody('json then stream', { stream: true }));
    assert.equal(streamHit.headers.get('x-breakwater-cache'), 'hit');
    assert.equal(streamed(streamHit.text).content, jsonMiss.choices[0]?.message.content);
    assert.equal(upstreamChats(gateway) - before, 2);
  });

  it('never serves one tenant the entry of another', async () => {
    const body = chatBody('tenant question');
    const before = upstreamChats(gateway);
    assert.equal((await chat(gateway, body, { [tenantHeader]: 'team-a' })).headers.get('x-breakwater-cache'), 'miss');
    assert.equal((await chat(gateway, body, { [tenantHeader]: 'team-b' })).headers.get('x-breakwater-cache'), 'miss');
    assert.equal((await chat(gateway, body, { [tenantHeader]: 'team-a' })).headers.get('x-breakwater-cache'), 'hit');
    assert.equal((await chat(gateway, body)).headers.get('x-breakwater-cache'), 'miss', 'anonymous is a tenant of its own');
    assert.equal(upstreamChats(gateway) - before, 3);
  });

  it('caches only deterministic requests unless the request opts in', async () => {
    const body = { model: 'sim-fast', messages: [{ role: 'user', content: 'sampled' }] };
    const before = upstreamChats(gateway);
    assert.equal((await chat(gateway, body)).headers.get('x-breakwater-cache'), 'bypass');
    assert.equal((await chat(gateway, body)).headers.get('x-breakwater-cache'), 'bypass');
    assert.equal((await chat(gateway, body, { 'x-breakwater-cache': 'force' })).headers.get('x-breakwater-cache'), 'miss');
    assert.equal((await chat(gateway, body, { 'x-breakwater-cache': 'force' })).headers.get('x-breakwater-cache'), 'hit');
    assert.equal((await chat(gateway, { ...body, seed: 7 })).headers.get('x-breakwater-cache'), 'miss');
    assert.equal(upstreamChats(gateway) - before, 4);
  });

  it('respects Cache-Control: no-store (neither served nor stored) and no-cache (not served, but stored)', async () => {
    const before = upstreamChats(gateway);
    const body = chatBody('no-store question');
    assert.equal((await chat(gateway, body, { 'cache-control': 'no-store' })).headers.get('x-breakwater-cache'), 'bypass');
    assert.equal((await chat(gateway, body)).headers.get('x-breakwater-cache'), 'miss', 'no-store stored nothing');
    assert.equal((await chat(gateway, body, { 'cache-control': 'no-store' })).headers.get('x-breakwater-cache'), 'bypass', 'no-store is not served either');
    const fresh = chatBody('no-cache question');
    await chat(gateway, fresh);
    assert.equal((await chat(gateway, fresh, { 'cache-control': 'no-cache' })).headers.get('x-breakwater-cache'), 'miss');
    assert.equal((await chat(gateway, fresh, { 'x-breakwater-cache': 'off' })).headers.get('x-breakwater-cache'), 'bypass');
    assert.equal(upstreamChats(gateway) - before, 6);
  });

  it('rejects a malformed cache header with a 400 naming it', async () => {
    const response = await chat(gateway, chatBody('bad ttl'), { 'x-breakwater-cache-ttl': 'soon' });
    assert.equal(response.status, 400);
    assert.equal((response.json() as { error: { param: string } }).error.param, 'x-breakwater-cache-ttl');
  });

  it('coalesces 100 concurrent identical misses into one upstream call', async () => {
    const before = upstreamChats(gateway);
    const body = chatBody('a hundred at once');
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, index) => chat(gateway, index % 2 === 0 ? body : { ...body, stream: true }, { 'x-sim-latency': 'ttft=300' })),
    );
    assert.equal(upstreamChats(gateway) - before, 1);
    const statuses = responses.map((response) => response.headers.get('x-breakwater-cache'));
    assert.equal(statuses.filter((status) => status === 'miss').length, 1);
    assert.equal(statuses.filter((status) => status === 'hit').length, 99);
    const contents = new Set(responses.map((response, index) => (index % 2 === 0 ? (response.json() as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content : streamed(response.text).content)));
    assert.equal(contents.size, 1);
  });

  it('never caches an upstream error or a stream cut short', async () => {
    const errorBody = chatBody('fails first');
    // A 400 from upstream is never retried, so the client sees the error itself.
    const failed = await chat(gateway, errorBody, { 'x-sim-fault': 'status=400;times=1;endpoint=chat', 'x-sim-fault-key': 'cache-error' });
    assert.equal(failed.status, 400);
    const retried = await chat(gateway, errorBody);
    assert.equal(retried.status, 200);
    assert.equal(retried.headers.get('x-breakwater-cache'), 'miss');

    const cutBody = chatBody('cut short', { stream: true, max_tokens: 40 });
    const cut = await chat(gateway, cutBody, { 'x-sim-fault': 'cut-after=3;times=1', 'x-sim-fault-key': 'cache-cut' });
    assert.equal(streamed(cut.text).done, false);
    const after = await chat(gateway, cutBody);
    assert.equal(after.headers.get('x-breakwater-cache'), 'miss');
    assert.ok(streamed(after.text).done);
  });

  it('puts the cache outcome on the log line', async () => {
    const body = chatBody('logged');
    await chat(gateway, body);
    await chat(gateway, body);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lines = gateway.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'request' && line.route === '/v1/chat/completions');
    assert.ok(lines.some((line) => line.cache === 'hit'));
    assert.ok(lines.every((line) => JSON.stringify(line).includes('logged') === false), 'no prompt text in logs');
  });
});
