import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullJitterDelay } from '../../src/reliability/backoff.js';
import { FakeClock } from '../../src/reliability/clock.js';
import { RetryBudget } from '../../src/reliability/retry-budget.js';

test('retries stay under the ratio of recent requests once the concurrency floor is used', () => {
  const clock = new FakeClock();
  const budget = new RetryBudget({ ratio: 0.2, min_concurrent: 2, window_seconds: 10 }, clock);
  for (let index = 0; index < 20; index++) budget.recordRequest();
  // Two in flight are always allowed (the floor); beyond that, 20 % of 20 requests = 4 retries in the window.
  const granted: boolean[] = [];
  for (let index = 0; index < 8; index++) granted.push(budget.tryRetry());
  assert.deepEqual(granted, [true, true, true, true, false, false, false, false]);
});

test('the floor lets a few concurrent retries through even with no traffic, and finishing frees them', () => {
  const clock = new FakeClock();
  const budget = new RetryBudget({ ratio: 0.2, min_concurrent: 2, window_seconds: 10 }, clock);
  assert.equal(budget.tryRetry(), true);
  assert.equal(budget.tryRetry(), true);
  assert.equal(budget.tryRetry(), false);
  budget.finish();
  assert.equal(budget.tryRetry(), true);
});

test('the window slides: old requests and retries stop counting', async () => {
  const clock = new FakeClock();
  const budget = new RetryBudget({ ratio: 0.5, min_concurrent: 0, window_seconds: 10 }, clock);
  for (let index = 0; index < 4; index++) budget.recordRequest();
  assert.equal(budget.tryRetry(), true);
  assert.equal(budget.tryRetry(), true);
  assert.equal(budget.tryRetry(), false);
  await clock.advance(11_000);
  assert.equal(budget.tryRetry(), false, 'no recent requests: no budget');
  for (let index = 0; index < 2; index++) budget.recordRequest();
  assert.equal(budget.tryRetry(), true);
});

test('full-jitter backoff stays within [0, min(cap, base·2^(n-1)))', () => {
  const settings = { base_ms: 250, cap_ms: 8_000 };
  assert.equal(fullJitterDelay(settings, 1, () => 0), 0);
  assert.equal(fullJitterDelay(settings, 1, () => 0.999), 249);
  assert.equal(fullJitterDelay(settings, 3, () => 0.5), 500);
  assert.equal(fullJitterDelay(settings, 10, () => 0.999), 7_992);
  for (let retry = 1; retry < 12; retry++) {
    const delay = fullJitterDelay(settings, retry);
    assert.ok(delay >= 0 && delay < Math.min(8_000, 250 * 2 ** (retry - 1)));
  }
});
