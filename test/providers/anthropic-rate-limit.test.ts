// Anthropic's rate-limit reset headers as the wait hint when a 429 / 529 comes without Retry-After: parsed with a fixed
// clock, mapped onto the error the executor cools a deployment by, and seen by a client through the gateway.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GatewayError } from '../../src/core/errors.js';
import { mapAnthropicError } from '../../src/providers/anthropic/errors.js';
import { rateLimitResetWait } from '../../src/providers/anthropic/rate-limit-headers.js';
import { startTestGateway } from '../helpers/gateway.js';
import { callOptions, FixtureServer, makeAdapter } from './conformance-support.js';

const now = Date.parse('2026-11-23T13:45:00Z');
const rateLimitBody = JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } });
const overloadedBody = JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });

// Header names and formats from docs.anthropic.com/en/api/rate-limits ("Response headers").
const headers = {
  'anthropic-ratelimit-requests-limit': '50',
  'anthropic-ratelimit-requests-remaining': '49',
  'anthropic-ratelimit-requests-reset': '2026-11-23T13:45:01Z',
  'anthropic-ratelimit-tokens-limit': '40000',
  'anthropic-ratelimit-tokens-remaining': '0',
  'anthropic-ratelimit-tokens-reset': '2026-11-23T13:45:20Z',
  'anthropic-ratelimit-input-tokens-remaining': '0',
  'anthropic-ratelimit-input-tokens-reset': '2026-11-23T13:45:12.500Z',
  'anthropic-ratelimit-output-tokens-remaining': '7000',
  'anthropic-ratelimit-output-tokens-reset': '2026-11-23T13:45:03Z',
};

test('the exhausted limits decide: the request can pass once the last of them resets', () => {
  assert.equal(rateLimitResetWait(headers, now), 20_000);
  assert.equal(rateLimitResetWait({ ...headers, 'anthropic-ratelimit-tokens-remaining': '5' }, now), 12_500);
});

test('without a remaining of 0 the earliest reset is the hint; offsets and fractions are RFC 3339 too', () => {
  assert.equal(rateLimitResetWait({ 'anthropic-ratelimit-output-tokens-reset': '2026-11-23T13:45:03Z', 'anthropic-ratelimit-requests-reset': '2026-11-23T14:45:02.250+01:00' }, now), 2_250);
});

test('unusable reset headers give no hint: not RFC 3339, in the past is 0, absurdly far is ignored', () => {
  assert.equal(rateLimitResetWait({}, now), undefined);
  assert.equal(rateLimitResetWait({ 'anthropic-ratelimit-tokens-reset': 'Mon, 23 Nov 2026 13:45:20 GMT' }, now), undefined);
  assert.equal(rateLimitResetWait({ 'anthropic-ratelimit-tokens-reset': '20' }, now), undefined);
  assert.equal(rateLimitResetWait({ 'anthropic-ratelimit-tokens-reset': 'soon' }, now), undefined);
  assert.equal(rateLimitResetWait({ 'anthropic-ratelimit-tokens-reset': '2026-11-23T13:44:00Z', 'anthropic-ratelimit-tokens-remaining': '0' }, now), 0);
  assert.equal(rateLimitResetWait({ 'anthropic-ratelimit-tokens-reset': '2026-11-24T13:45:00Z' }, now), undefined);
});

test('429 and 529 without Retry-After carry the reset wait; Retry-After, when sent, wins', () => {
  const limited = mapAnthropicError('claude', 429, headers, rateLimitBody, now);
  assert.equal(limited.code, 'BW_ERR_UPSTREAM_RATE_LIMITED');
  assert.equal(limited.retryable, true);
  assert.equal(limited.retryAfterMs, 20_000);
  const overloaded = mapAnthropicError('claude', 529, headers, overloadedBody, now);
  assert.equal(overloaded.code, 'BW_ERR_UPSTREAM_UNAVAILABLE');
  assert.equal(overloaded.retryAfterMs, 20_000);
  assert.equal(mapAnthropicError('claude', 429, { ...headers, 'retry-after': '4' }, rateLimitBody, now).retryAfterMs, 4_000);
  assert.equal(mapAnthropicError('claude', 429, {}, rateLimitBody, now).retryAfterMs, undefined);
  // Other statuses never read them.
  assert.equal(mapAnthropicError('claude', 500, headers, '{}', now).retryAfterMs, undefined);
});

const server = new FixtureServer();
before(() => server.start());
after(() => server.close());

/** A 429 whose only wait hint is a tokens reset `seconds` from the wall clock (the adapter reads the real time). */
function serveLimited(seconds: number): void {
  const reset = new Date(Date.now() + seconds * 1000).toISOString();
  server.serve({ status: 429, headers: { 'content-type': 'application/json', 'anthropic-ratelimit-tokens-remaining': '0', 'anthropic-ratelimit-tokens-reset': reset }, body: rateLimitBody });
}

test('through the adapter: the reset header becomes retryAfterMs', async () => {
  const adapter = makeAdapter('anthropic', server.url);
  try {
    serveLimited(90);
    await assert.rejects(adapter.chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, callOptions('claude')), (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.ok(error.retryAfterMs !== undefined && error.retryAfterMs > 60_000 && error.retryAfterMs <= 90_000, `retryAfterMs ${String(error.retryAfterMs)}`);
      return true;
    });
  } finally {
    await adapter.close();
  }
});

test('through the gateway: the deployment cools down until the reset and the client gets it as Retry-After', async () => {
  const gateway = await startTestGateway({ providers: [{ name: 'claude', type: 'anthropic', base_url: server.url, api_key: 'k', models: ['claude-sonnet'] }] });
  try {
    serveLimited(240);
    const first = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet', messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(first.status, 429);
    const retryAfter = Number(first.headers.get('retry-after'));
    assert.ok(retryAfter > 180 && retryAfter <= 240, `retry-after ${String(retryAfter)}`);
    // While cooling, the deployment is not called again.
    const calls = server.requests.length;
    const second = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet', messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(second.status, 429);
    assert.equal(server.requests.length, calls);
  } finally {
    await gateway.close();
  }
});
