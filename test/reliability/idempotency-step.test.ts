import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatCompletion, ChatRequest } from '../../src/core/types.js';
import type { ChatOutcome, PipelineContext, Principal } from '../../src/pipeline/context.js';
import { systemClock } from '../../src/reliability/clock.js';
import { SqliteIdempotencyStore } from '../../src/reliability/idempotency/sqlite-store.js';
import { idempotencyStep } from '../../src/reliability/idempotency/step.js';

const settings = { ttl_seconds: 60, lock_ttl_ms: 5_000, on_concurrent: 'wait' as const, max_stored_bytes: 1_000_000 };

function context(principal: Principal, key: string): PipelineContext {
  return {
    record: { gatewayId: 0, requestId: 'r', route: '/v1/chat/completions', method: 'POST', startedAt: 0, stream: false, status: 0, clientClosed: false },
    signal: new AbortController().signal,
    clientHeaders: { 'idempotency-key': key },
    principal,
    responseHeaders: {},
  };
}

test("another tenant's identical key and body is a separate record", async () => {
  const step = idempotencyStep(new SqliteIdempotencyStore(':memory:', systemClock), settings, systemClock);
  let calls = 0;
  const next = async (): Promise<ChatOutcome> => {
    calls++;
    const completion: ChatCompletion = { id: `c${calls}`, object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: `answer ${calls}` }, finish_reason: 'stop' }] };
    return { kind: 'json', result: { completion, raw: JSON.stringify(completion) } };
  };
  const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
  const a = await step(request, context({ keyId: 'key-a', team: 'team-a' }, 'same'), next);
  const b = await step(request, context({ keyId: 'key-b', team: 'team-b' }, 'same'), next);
  const aAgain = await step(request, context({ keyId: 'key-a', team: 'team-a' }, 'same'), next);
  assert.equal(calls, 2);
  assert.ok(a.kind === 'json' && b.kind === 'json' && aAgain.kind === 'json');
  assert.notEqual(a.result.raw, b.result.raw);
  assert.equal(aAgain.result.raw, a.result.raw);
});

test('a bad Idempotency-Key is a 400 naming the header', async () => {
  const step = idempotencyStep(new SqliteIdempotencyStore(':memory:', systemClock), settings, systemClock);
  await assert.rejects(
    step({ model: 'm', messages: [] }, context({ keyId: 'k' }, 'x'.repeat(300)), async () => assert.fail('must not run')),
    (error: unknown) => (error as { status?: number; param?: string }).status === 400 && (error as { param?: string }).param === 'Idempotency-Key',
  );
});
