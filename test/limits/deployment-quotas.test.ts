// Deployment quotas on the in-memory limiter: what each way an attempt can end gives back to the deployment's buckets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PriceTable } from '../../src/accounting/prices.js';
import type { ChatRequest, StreamChunk } from '../../src/core/types.js';
import { DeploymentQuotas } from '../../src/limits/deployment-quotas.js';
import { MemoryLimiter } from '../../src/limits/memory-limiter.js';
import type { PipelineContext } from '../../src/pipeline/context.js';
import type { ProviderAdapter } from '../../src/providers/types.js';
import type { QuotaTicket } from '../../src/routing/deployment-quota.js';
import type { Candidate } from '../../src/routing/model-table.js';

const now = 1_700_000_000_000;
const request: ChatRequest = { model: 'chat', max_tokens: 100, messages: [{ role: 'user', content: 'hello there' }] };

function context(): PipelineContext {
  return {
    record: { gatewayId: 1, requestId: 'request-1', route: '/v1/chat/completions', method: 'POST', startedAt: 0, stream: false, status: 0 } as PipelineContext['record'],
    signal: new AbortController().signal,
    clientHeaders: {},
    principal: { keyId: 'anonymous' },
    responseHeaders: {},
  };
}

function setup(quota: Pick<Candidate, 'rpm' | 'tpm'>) {
  const limiter = new MemoryLimiter(() => now);
  const quotas = new DeploymentQuotas(limiter, new PriceTable({}), 1_024, 1, (error) => assert.fail(String(error)));
  const candidate: Candidate = { provider: { name: 'upstream' } as ProviderAdapter, upstreamModel: 'model-a', weight: 1, tier: 0, ...quota };
  /** The deployment's buckets as they stand (a zero-amount check takes nothing). */
  const levels = async () => {
    const outcome = await limiter.acquire({
      buckets: [
        { key: 'rl:deployment:upstream:model-a:requests', ratePerMinute: quota.rpm ?? 1, capacity: quota.rpm ?? 1, amount: 0 },
        { key: 'rl:deployment:upstream:model-a:tokens', ratePerMinute: quota.tpm ?? 1, capacity: quota.tpm ?? 1, amount: 0 },
      ],
    });
    return { requests: outcome.buckets[0]?.remaining, tokens: outcome.buckets[1]?.remaining };
  };
  const take = async (pipeline = context()): Promise<QuotaTicket> => {
    const decision = await quotas.take(candidate, pipeline, { kind: 'chat', request });
    assert.ok(decision.allowed);
    return decision.ticket;
  };
  return { quotas, candidate, levels, take };
}

async function* chunks(usage: { prompt_tokens: number; completion_tokens: number }): AsyncGenerator<StreamChunk> {
  const base = { id: 'c', object: 'chat.completion.chunk' as const, created: 0, model: 'model-a' };
  yield { chunk: { ...base, choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }] } } as StreamChunk;
  yield { chunk: { ...base, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } } } as StreamChunk;
}

describe('deployment quotas', () => {
  test('over the rpm: refused with the wait for the next request and the reason', async () => {
    const { quotas, candidate, take } = setup({ rpm: 2 });
    await take();
    await take();
    const refused = await quotas.take(candidate, context(), { kind: 'chat', request });
    assert.equal(refused.allowed, false);
    assert.ok(!refused.allowed);
    assert.equal(refused.retryAfterMs, 30_000);
    assert.match(refused.reason, /over its quota of 2 requests per minute/);
  });

  test('cancel (no call made) gives everything back; failed keeps the request and gives the tokens back', async () => {
    const { levels, take } = setup({ rpm: 10, tpm: 10_000 });
    const cancelled = await take();
    const reserved = await levels();
    assert.equal(reserved.requests, 9);
    assert.ok((reserved.tokens ?? 0) < 10_000 - 100, 'prompt + max_tokens reserved');
    cancelled.cancel();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await levels(), { requests: 10, tokens: 10_000 });
    const failed = await take();
    failed.failed();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await levels(), { requests: 9, tokens: 10_000 });
  });

  test('a served JSON answer and a served stream are charged their real usage', async () => {
    const { levels, take } = setup({ tpm: 10_000 });
    const json = await take();
    await json.servedChat({ kind: 'json', result: { completion: { usage: { prompt_tokens: 7, completion_tokens: 13, total_tokens: 20 } } } as never });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await levels()).tokens, 10_000 - 20);
    const streamed = await take();
    const outcome = await streamed.servedChat({ kind: 'stream', stream: chunks({ prompt_tokens: 5, completion_tokens: 25 }) });
    assert.ok(((await levels()).tokens ?? 0) <= 10_000 - 20 - 100, 'prompt + max_tokens still reserved while the stream runs');
    assert.ok(outcome.kind === 'stream');
    for await (const chunk of outcome.stream) void chunk;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await levels()).tokens, 10_000 - 20 - 30, 'reconciled when the stream ended');
  });

  test('embeddings are charged their prompt tokens', async () => {
    const { quotas, candidate, levels } = setup({ tpm: 10_000 });
    const decision = await quotas.take(candidate, context(), { kind: 'embeddings', request: { model: 'embed', input: 'some words to embed' } });
    assert.ok(decision.allowed);
    decision.ticket.servedEmbeddings({ response: { object: 'list', data: [], model: 'model-a', usage: { prompt_tokens: 4, total_tokens: 4 } } } as never);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await levels()).tokens, 10_000 - 4);
  });
});
