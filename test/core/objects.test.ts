// withHeader: the request path's way to copy a header set with one more entry (see src/core/objects.ts for why).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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

test('copies made by withHeader share one hidden class once V8 has optimised it (what it exists for)', () => {
  // In a child with natives syntax: V8's own answer, after enough calls for the copy to be optimised.
  const script = `
    import { withHeader } from './src/core/objects.ts';
    const base = { 'content-type': 'application/json', accept: 'application/json' };
    for (let i = 0; i < 100000; i++) withHeader(base, 'x-request-id', 'warm-' + i);
    const a = withHeader(base, 'x-request-id', 'a');
    const b = withHeader(base, 'x-request-id', 'b');
    console.log(JSON.stringify({ sameMap: %HaveSameMap(a, b), fast: %HasFastProperties(a) }));
  `;
  const child = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout.trim()), { sameMap: true, fast: true });
});
