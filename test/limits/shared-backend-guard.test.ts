// The fail-open/fail-closed guard on fake time: when the shared backend (Redis) never answers, the decision is made
// exactly when the decide_within_ms timer fires — 503 fail-closed, the local limiter fail-open — never later, never a hang.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, test } from 'node:test';
import { GatewayError } from '../../src/core/errors.js';
import { FailoverLimiter } from '../../src/limits/failover-limiter.js';
import type { LimiterStateEvent } from '../../src/limits/limit-events.js';
import type { AcquireOutcome, RateLimiter } from '../../src/limits/rate-limiter.js';
import { SharedBackendGuard, type FailureMode, type Scheduler } from '../../src/limits/shared-backend-guard.js';
import { FakeClock } from '../../src/reliability/clock.js';

const decideWithinMs = 50;
const probeIntervalMs = 1_000;
let nextGatewayId = 90_000;

/** The guard's timer on fake time: fires when the clock passes it, unless cancelled first. */
function fakeScheduler(clock: FakeClock): Scheduler {
  return (callback, ms) => {
    const controller = new AbortController();
    void clock.sleep(ms, controller.signal).then(() => {
      if (!controller.signal.aborted) callback();
    });
    return () => controller.abort();
  };
}

/** Lets pending callbacks, promise jobs and the guard's check-phase decision run. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/** Observes a promise without awaiting it. */
function watch<T>(promise: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const watched: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  promise.then(
    (value) => Object.assign(watched, { state: 'resolved', value }),
    (error: unknown) => Object.assign(watched, { state: 'rejected', error }),
  );
  return watched;
}

function setup(mode: FailureMode) {
  const clock = new FakeClock();
  const gatewayId = nextGatewayId++;
  const guard = new SharedBackendGuard({ mode, decideWithinMs, probeIntervalMs, gatewayId, clock: () => clock.now(), schedule: fakeScheduler(clock) });
  let sharedCalls = 0;
  let answer: Promise<string> = new Promise(() => undefined); // a frozen Redis: never answers
  const shared = () => {
    sharedCalls++;
    return answer;
  };
  return {
    clock,
    guard,
    gatewayId,
    shared,
    get sharedCalls() {
      return sharedCalls;
    },
    answerWith(value: string) {
      answer = Promise.resolve(value);
    },
  };
}

describe('shared backend guard on fake time', () => {
  test('fail-closed: a backend call that never answers becomes a 503 exactly when the decide_within_ms timer fires', async () => {
    const fixture = setup('closed');
    const call = watch(fixture.guard.run(fixture.shared, async () => 'local'));
    await settle();
    await fixture.clock.advance(decideWithinMs - 1);
    await settle();
    assert.equal(call.state, 'pending', 'not decided before the bound');
    await fixture.clock.advance(1);
    await settle();
    assert.equal(call.state, 'rejected', 'decided when the timer fired');
    assert.ok(call.error instanceof GatewayError);
    assert.equal(call.error.code, 'BW_ERR_LIMITER_UNAVAILABLE');
    assert.equal(call.error.status, 503);
    assert.equal(call.error.retryAfterMs, 1_000);
    assert.equal(fixture.guard.isDegraded, true);
    assert.equal(fixture.clock.pendingSleepers, 0, 'no timer left behind');
  });

  test('fail-closed: while degraded, calls are refused at once without touching the backend; after the probe interval it is tried again', async () => {
    const fixture = setup('closed');
    const first = watch(fixture.guard.run(fixture.shared, async () => 'local'));
    await fixture.clock.advance(decideWithinMs);
    await settle();
    assert.equal(first.state, 'rejected');
    assert.equal(fixture.sharedCalls, 1);
    const during = watch(fixture.guard.run(fixture.shared, async () => 'local'));
    await settle();
    assert.equal(during.state, 'rejected', 'decided without waiting for any timer');
    assert.equal(fixture.sharedCalls, 1, 'the backend is not called while it is known to be down');
    assert.equal(fixture.clock.pendingSleepers, 0);
    await fixture.clock.advance(probeIntervalMs);
    fixture.answerWith('shared');
    const probe = watch(fixture.guard.run(fixture.shared, async () => 'local'));
    await settle();
    assert.equal(probe.state, 'resolved');
    assert.equal(probe.value, 'shared');
    assert.equal(fixture.sharedCalls, 2);
    assert.equal(fixture.guard.isDegraded, false, 'the shared backend is back');
  });

  test('fail-open: the local limiter answers when the timer fires, and the degraded state is announced', async () => {
    const fixture = setup('open');
    const events: LimiterStateEvent[] = [];
    const listener = (message: unknown) => {
      const event = message as LimiterStateEvent;
      if (event.gatewayId === fixture.gatewayId) events.push(event);
    };
    subscribe('breakwater:limits:limiter-state', listener);
    try {
      const call = watch(fixture.guard.run(fixture.shared, async () => 'local'));
      await fixture.clock.advance(decideWithinMs - 1);
      await settle();
      assert.equal(call.state, 'pending');
      await fixture.clock.advance(1);
      await settle();
      assert.equal(call.state, 'resolved');
      assert.equal(call.value, 'local');
      assert.deepEqual(
        events.map((event) => [event.degraded, event.failed, event.changed, event.mode]),
        [[true, true, true, 'open']],
      );
      assert.match(events[0]?.error ?? '', /did not answer within 50 ms/);
    } finally {
      unsubscribe('breakwater:limits:limiter-state', listener);
    }
  });

  test('an answer before the bound wins and cancels the timer', async () => {
    const fixture = setup('closed');
    fixture.answerWith('shared');
    const call = watch(fixture.guard.run(fixture.shared, async () => 'local'));
    await settle();
    assert.equal(call.state, 'resolved');
    assert.equal(call.value, 'shared');
    assert.equal(fixture.clock.pendingSleepers, 0, 'the decide timer was cancelled');
    assert.equal(fixture.guard.isDegraded, false);
  });

  for (const mode of ['closed', 'open'] as const) {
    test(`the failover limiter over a frozen shared limiter (fail-${mode}): decided at ${decideWithinMs} ms of fake time`, async () => {
      const clock = new FakeClock();
      const guard = new SharedBackendGuard({ mode, decideWithinMs, probeIntervalMs, gatewayId: nextGatewayId++, clock: () => clock.now(), schedule: fakeScheduler(clock) });
      const frozen: RateLimiter = { acquire: () => new Promise<AcquireOutcome>(() => undefined), close: async () => undefined };
      const limiter = new FailoverLimiter(frozen, guard, () => clock.now());
      const call = watch(limiter.acquire({ buckets: [{ key: 'rl:key:k:requests', ratePerMinute: 60, capacity: 60, amount: 1 }] }));
      await clock.advance(decideWithinMs - 1);
      await settle();
      assert.equal(call.state, 'pending');
      await clock.advance(1);
      await settle();
      if (mode === 'closed') {
        assert.equal(call.state, 'rejected');
        assert.equal((call.error as GatewayError).status, 503);
      } else {
        assert.equal(call.state, 'resolved');
        assert.equal(call.value?.backend, 'local');
        assert.equal(call.value?.allowed, true);
      }
      await limiter.close();
    });
  }
});
