import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRetryAfter } from '../../src/providers/retry-after.js';

test('Retry-After in seconds, as an HTTP-date, retry-after-ms, and garbage', () => {
  const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
  assert.equal(parseRetryAfter({ 'retry-after': '3' }, now), 3000);
  assert.equal(parseRetryAfter({ 'retry-after': '0.5' }, now), 500);
  assert.equal(parseRetryAfter({ 'retry-after': 'Wed, 21 Oct 2026 07:28:10 GMT' }, now), 10_000);
  assert.equal(parseRetryAfter({ 'retry-after': 'Wed, 21 Oct 2026 07:27:00 GMT' }, now), 0);
  assert.equal(parseRetryAfter({ 'retry-after-ms': '250', 'retry-after': '9' }, now), 250);
  assert.equal(parseRetryAfter({ 'retry-after': 'soon-ish' }, now), undefined);
  assert.equal(parseRetryAfter({}, now), undefined);
});
