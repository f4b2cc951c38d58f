// The rate-limit step's admission timing for a sampled request's trace: the timing spans the policy's whole wait
// (taken before the admission starts), a refusal keeps its error code, and an untimed request records nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PriceSource } from '../../src/accounting/prices.js';
import { Cancellation } from '../../src/core/cancellation.js';
import type { EmbeddingsRequest } from '../../src/core/types.js';
import { rateLimitEmbeddingsStep } from '../../src/limits/limit-steps.js';
import type { Admission, RateLimitPolicy } from '../../src/limits/rate-limit-policy.js';
import type { RequestRecord } from '../../src/observability/events.js';
import type { EmbeddingsResult } from '../../src/providers/types.js';
import type { PipelineContext } from '../../src/pipeline/context.js';

const prices: PriceSource = { priceOf: () => undefined };
const request = { model: 'sim-embed', input: 'some words to embed' } as EmbeddingsRequest;
const served = { response: { usage: { prompt_tokens: 4, total_tokens: 4 } } } as unknown as EmbeddingsResult;

function contextWith(timeSteps: boolean): PipelineContext {
  const record = { timeSteps: timeSteps ? true : undefined, steps: undefined } as unknown as RequestRecord;
  return { record, signal: new Cancellation(), clientHeaders: {}, principal: { keyId: 'k' }, responseHeaders: {} };
}

/** A policy whose admission takes `waitMs`, then admits or throws `refusal`. */
function slowPolicy(waitMs: number, refusal?: Error): { policy: RateLimitPolicy; settled: number[] } {
  const settled: number[] = [];
  const admission: Admission = { settle: async (tokens) => void settled.push(tokens) };
  const policy = {
    admit: async () => {
      await sleep(waitMs);
      if (refusal) throw refusal;
      return admission;
    },
  } as unknown as RateLimitPolicy;
  return { policy, settled };
}

test('a timed admission records the whole wait and "admitted", and the request goes on', async () => {
  const { policy, settled } = slowPolicy(25);
  const context = contextWith(true);
  const result = await rateLimitEmbeddingsStep(policy, prices)(request, context, async () => served);
  assert.equal(result, served);
  assert.deepEqual(settled, [4]);
  const steps = context.record.steps ?? [];
  assert.equal(steps.length, 1);
  assert.equal(steps[0]?.name, 'rate limit');
  assert.equal(steps[0]?.outcome, 'admitted');
  assert.ok((steps[0]?.endedAt ?? 0) - (steps[0]?.startedAt ?? 0) >= 20, 'the timing covers the policy wait');
});

test('a timed refusal records its error code and the error reaches the caller unchanged', async () => {
  const refusal = Object.assign(new Error('too many requests'), { code: 'BW_ERR_RATE_LIMITED' });
  const { policy } = slowPolicy(5, refusal);
  const context = contextWith(true);
  let called = false;
  await assert.rejects(
    rateLimitEmbeddingsStep(policy, prices)(request, context, async () => {
      called = true;
      return served;
    }),
    (error) => error === refusal,
  );
  assert.equal(called, false);
  assert.deepEqual(
    context.record.steps?.map((step) => [step.name, step.outcome]),
    [['rate limit', 'BW_ERR_RATE_LIMITED']],
  );
});

test('an untimed request (not sampled) records no step', async () => {
  const { policy, settled } = slowPolicy(1);
  const context = contextWith(false);
  assert.equal(await rateLimitEmbeddingsStep(policy, prices)(request, context, async () => served), served);
  assert.equal(context.record.steps, undefined);
  assert.deepEqual(settled, [4]);
});
