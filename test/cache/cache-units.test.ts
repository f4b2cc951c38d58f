// Unit tests of the cache's parts: key normalisation and scoping, policy headers, stream replay and assembly,
// the L1 byte bound, TTL expiry (fake clock), coalescing, and the SQLite L2.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exactKey, conversationFingerprint, lastUserText } from '../../src/cache/cache-key.js';
import { CachePolicy } from '../../src/cache/cache-policy.js';
import type { CacheEntry } from '../../src/cache/cache-entry.js';
import { CacheConfigSchema, type CacheConfig } from '../../src/cache/config-schema.js';
import { Coalescer } from '../../src/cache/coalescer.js';
import { MemoryTier } from '../../src/cache/stores/memory-tier.js';
import { SqliteStore } from '../../src/cache/stores/sqlite-store.js';
import { replayCompletion, StreamAssembler } from '../../src/cache/stream-replay.js';
import type { ChatCompletion, ChatRequest } from '../../src/core/types.js';
import { openSqlite } from '../../src/store/sqlite.js';
import { Value } from '@sinclair/typebox/value';

const scope = { namespace: 'default', tenant: 'team-a' };
const request = (extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'm', temperature: 0, messages: [{ role: 'user', content: 'hi' }], ...extra });
const settings = (overrides: Record<string, unknown> = {}): CacheConfig => Value.Default(CacheConfigSchema, { enabled: true, ...overrides }) as CacheConfig;

describe('cache key', () => {
  it('ignores delivery fields and key order, and separates tenants, namespaces and parameters', () => {
    const base = exactKey(scope, request());
    assert.equal(exactKey(scope, request({ stream: true, stream_options: { include_usage: true }, user: 'u1' })), base);
    assert.equal(exactKey(scope, { messages: [{ content: 'hi', role: 'user' }], temperature: 0, model: 'm' }), base);
    assert.notEqual(exactKey({ ...scope, tenant: 'team-b' }, request()), base);
    assert.notEqual(exactKey({ ...scope, namespace: 'other' }, request()), base);
    assert.notEqual(exactKey(scope, request({ max_tokens: 5 })), base);
    assert.notEqual(exactKey(scope, request({ model: 'n' })), base);
    assert.match(base, /^default:[0-9a-f]{24}:[0-9a-f]{64}$/);
  });

  it('fingerprints the conversation without its last turn; semantic text is the last user turn only', () => {
    const one = request({ messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'a' }] });
    const two = request({ messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'b' }] });
    const other = request({ messages: [{ role: 'system', content: 'be long' }, { role: 'user', content: 'a' }] });
    assert.equal(conversationFingerprint(one), conversationFingerprint(two));
    assert.notEqual(conversationFingerprint(one), conversationFingerprint(other));
    assert.equal(lastUserText(one), 'a');
    assert.equal(lastUserText(request({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'x' }] })), undefined);
  });
});

describe('cache policy', () => {
  const policy = new CachePolicy(settings({ models: { 'no-cache-model': { mode: 'off' }, always: { mode: 'always' } }, namespaces: { short: { ttl_seconds: 5 } } }));
  it('caches deterministic requests only, unless forced or configured', () => {
    assert.ok(policy.decide(request(), {}));
    assert.ok(policy.decide(request({ temperature: 0.7, seed: 3 }), {}));
    assert.equal(policy.decide(request({ temperature: 0.7 }), {}), undefined);
    assert.ok(policy.decide(request({ temperature: 0.7 }), { 'x-breakwater-cache': 'force' }));
    assert.ok(policy.decide(request({ temperature: 1, model: 'always' }), {}));
    assert.equal(policy.decide(request({ model: 'no-cache-model' }), {}), undefined);
  });

  it('honours Cache-Control, the TTL and namespace headers, and exact-only', () => {
    assert.equal(policy.decide(request(), { 'cache-control': 'no-store' }), undefined);
    assert.equal(policy.decide(request(), { 'cache-control': 'max-age=0, no-cache' })?.lookup, false);
    assert.equal(policy.decide(request(), { 'x-breakwater-cache-ttl': '60' })?.ttlMs, 60_000);
    assert.equal(policy.decide(request(), { 'x-breakwater-cache-namespace': 'short' })?.ttlMs, 5_000);
    assert.throws(() => policy.decide(request(), { 'x-breakwater-cache-ttl': '99999999' }), /x-breakwater-cache-ttl/);
    assert.throws(() => policy.decide(request(), { 'x-breakwater-cache-namespace': 'a b' }), /namespace/);
    assert.throws(() => policy.decide(request(), { 'x-breakwater-cache': 'maybe' }), /unknown directive/);
  });
});

describe('stream replay and assembly', () => {
  const completion: ChatCompletion = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [
      { index: 0, message: { role: 'assistant', content: 'A fairly long answer that will certainly be split into more than one piece when replayed.' }, logprobs: null, finish_reason: 'stop' },
      { index: 1, message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }] }, logprobs: null, finish_reason: 'tool_calls' },
    ],
    usage: { prompt_tokens: 3, completion_tokens: 20, total_tokens: 23 },
  };

  it('replays role, content, tool-call, finish and usage chunks that assemble back to the same completion', () => {
    const chunks = [...replayCompletion(completion)];
    assert.equal(chunks[0]?.chunk.choices[0]?.delta.role, 'assistant');
    assert.ok(chunks.filter((item) => typeof item.chunk.choices[0]?.delta.content === 'string' && item.chunk.choices[0]?.delta.content !== '').length > 1);
    assert.deepEqual(chunks.at(-1)?.chunk.choices, []);
    assert.deepEqual(chunks.at(-1)?.chunk.usage, completion.usage);
    const assembler = new StreamAssembler();
    for (const chunk of chunks) assembler.add(chunk);
    assert.deepEqual(assembler.completion(), completion);
  });

  it('refuses to assemble a stream that did not finish', () => {
    const assembler = new StreamAssembler();
    for (const chunk of [...replayCompletion(completion)].slice(0, 3)) assembler.add(chunk);
    assert.equal(assembler.completion(), undefined);
  });
});

const entry = (key: string, raw: string, expiresAt: number, semantic = false): CacheEntry => ({
  v: 1,
  key,
  namespace: key.split(':')[0] ?? '',
  createdAt: 0,
  expiresAt,
  raw,
  ...(semantic ? { semantic: { partition: 'p\u0000e', text: 'q', vector: 'AACAPw==' } } : {}),
});

describe('L1 memory tier', () => {
  it('stays within its byte bound, evicting least recently used entries, and expires by TTL', () => {
    const memory = new MemoryTier(1_000);
    for (let index = 0; index < 10; index++) memory.set(entry(`ns:t:${index}`, 'x'.repeat(200), 10_000), 200, 0);
    assert.ok(memory.bytes <= 1_000);
    assert.equal(memory.size, 5);
    assert.equal(memory.evictions, 5);
    assert.equal(memory.get('ns:t:0', 0), undefined);
    assert.ok(memory.get('ns:t:9', 0));
    assert.equal(memory.get('ns:t:9', 10_000), undefined, 'expired at its TTL');
  });

  it('purges by namespace and tenant', () => {
    const memory = new MemoryTier(10_000);
    memory.set(entry('a:t1:1', 'x', 100), 10, 0);
    memory.set(entry('a:t2:1', 'x', 100), 10, 0);
    memory.set(entry('b:t1:1', 'x', 100), 10, 0);
    assert.equal(memory.purge({ namespace: 'a', tenant: 't1' }), 1);
    assert.equal(memory.purge({ namespace: 'a' }), 1);
    assert.equal(memory.size, 1);
  });
});

describe('coalescer', () => {
  it('hands the leader’s value to followers, and lets them go after the bounded wait', async () => {
    const coalescer = new Coalescer<string>(50);
    const settle = coalescer.lead('k');
    assert.ok(settle);
    assert.equal(coalescer.lead('k'), undefined);
    const follower = coalescer.follow('k', new AbortController().signal);
    settle('value');
    assert.equal(await follower, 'value');
    assert.equal(coalescer.isInFlight('k'), false);
    coalescer.lead('slow');
    assert.equal(await coalescer.follow('slow', new AbortController().signal), undefined);
  });
});

describe('SQLite L2', () => {
  it('stores, expires, lists semantic entries, bounds its rows and purges', async () => {
    let now = 1_000;
    const store = new SqliteStore(openSqlite(':memory:'), 'cache_test', 3, () => now);
    await store.set(entry('ns:t:1', '{"a":1}', 2_000, true));
    await store.set(entry('ns:t:2', '{"a":2}', 5_000));
    store.flush();
    assert.equal((await store.get('ns:t:1'))?.raw, '{"a":1}');
    assert.equal((await store.semanticEntries(10)).length, 1);
    now = 3_000;
    assert.equal(await store.get('ns:t:1'), undefined, 'expired');
    for (let index = 3; index < 8; index++) await store.set(entry(`ns:t:${index}`, '{}', 10_000 + index));
    store.flush();
    store.sweep();
    assert.equal(await store.get('ns:t:3'), undefined, 'oldest beyond the row bound evicted');
    assert.ok(await store.get('ns:t:7'));
    assert.equal(await store.purge({ namespace: 'ns' }), 3);
    await store.close();
  });
});
