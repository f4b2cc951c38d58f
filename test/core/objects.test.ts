// withHeader: the request path's way to copy a header set with one more entry (see src/core/objects.ts for why).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withHeader } from '../../src/core/objects.js';

test('withHeader copies, adds or replaces one entry, and leaves the base untouched', () => {
  const base = Object.freeze({ 'content-type': 'application/json', accept: 'application/json' });
  const added = withHeader(base, 'x-request-id', 'req-1');
  assert.deepEqual(added, { 'content-type': 'application/json', accept: 'application/json', 'x-request-id': 'req-1' });
  const replaced = withHeader(base, 'accept', 'text/event-stream');
  assert.deepEqual(replaced, { 'content-type': 'application/json', accept: 'text/event-stream' });
  assert.deepEqual(base, { 'content-type': 'application/json', accept: 'application/json' });
  const extended = withHeader(base, 'x-request-id', 'req-2');
  extended.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  assert.equal('traceparent' in base, false);
});
