import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreaker, type BreakerSettings, type BreakerTransition } from '../../src/reliability/breaker.js';
import { FakeClock } from '../../src/reliability/clock.js';

const settings: BreakerSettings = { window_seconds: 10, min_calls: 4, failure_rate: 0.5, consecutive_failures: 100, cooldown_ms: 1_000, max_cooldown_ms: 3_000, half_open_probes: 2 };

function fail(breaker: CircuitBreaker, count: number): void {
  for (let index = 0; index < count; index++) {
    const permit = breaker.tryAcquire();
    assert.ok(permit);
    breaker.failure(permit);
  }
}

function succeed(breaker: CircuitBreaker, count: number): void {
  for (let index = 0; index < count; index++) {
    const permit = breaker.tryAcquire();
    assert.ok(permit);
    breaker.success(permit);
  }
}

test('opens on the failure rate only once the window holds the minimum number of calls', () => {
  const clock = new FakeClock();
  const transitions: BreakerTransition[] = [];
  const breaker = new CircuitBreaker(settings, clock, (transition) => transitions.push(transition));
  fail(breaker, 3);
  assert.equal(breaker.current, 'closed', '3 failures < min_calls');
  succeed(breaker, 2);
  fail(breaker, 1); // 4 failures of 6 calls ≥ 50 %
  assert.equal(breaker.current, 'open');
  assert.equal(breaker.tryAcquire(), undefined);
  assert.match(transitions[0]?.reason ?? '', /failure rate/);
});

test('failures that fall out of the sliding window no longer count', async () => {
  const clock = new FakeClock();
  const breaker = new CircuitBreaker(settings, clock);
  fail(breaker, 3);
  await clock.advance(11_000);
  succeed(breaker, 3);
  fail(breaker, 1);
  assert.equal(breaker.current, 'closed', 'only 1 failure of 4 calls within the window');
});

test('consecutive failures open it; an auth failure opens it at once', () => {
  const clock = new FakeClock();
  const consecutive = new CircuitBreaker({ ...settings, consecutive_failures: 3, min_calls: 1_000 }, clock);
  fail(consecutive, 2);
  succeed(consecutive, 1);
  fail(consecutive, 2);
  assert.equal(consecutive.current, 'closed', 'the success reset the streak');
  fail(consecutive, 1);
  assert.equal(consecutive.current, 'open');
  const auth = new CircuitBreaker(settings, clock);
  const permit = auth.tryAcquire();
  assert.ok(permit);
  auth.failure(permit, true);
  assert.equal(auth.current, 'open');
});

test('after the cool-down exactly the configured probes get through; a successful probe closes it', async () => {
  const clock = new FakeClock();
  const breaker = new CircuitBreaker(settings, clock);
  fail(breaker, 4);
  await clock.advance(999);
  assert.equal(breaker.tryAcquire(), undefined, 'still cooling down');
  await clock.advance(1);
  const first = breaker.tryAcquire();
  const second = breaker.tryAcquire();
  assert.ok(first?.probe && second?.probe);
  assert.equal(breaker.tryAcquire(), undefined, 'no third probe');
  breaker.success(first);
  assert.equal(breaker.current, 'closed');
  breaker.success(second);
  assert.ok(breaker.tryAcquire());
});

test('a failed probe re-opens it with a doubled cool-down, capped', async () => {
  const clock = new FakeClock();
  const breaker = new CircuitBreaker(settings, clock);
  fail(breaker, 4);
  const cooldowns: number[] = [];
  for (let round = 0; round < 4; round++) {
    cooldowns.push(breaker.retryInMs);
    await clock.advance(breaker.retryInMs);
    const probe = breaker.tryAcquire();
    assert.ok(probe?.probe);
    breaker.failure(probe);
    assert.equal(breaker.current, 'open');
  }
  assert.deepEqual(cooldowns, [1_000, 2_000, 3_000, 3_000]);
});

test('a released probe permit frees its slot', async () => {
  const clock = new FakeClock();
  const breaker = new CircuitBreaker({ ...settings, half_open_probes: 1 }, clock);
  fail(breaker, 4);
  await clock.advance(1_000);
  const probe = breaker.tryAcquire();
  assert.ok(probe);
  assert.equal(breaker.tryAcquire(), undefined);
  breaker.release(probe);
  assert.ok(breaker.tryAcquire());
});
