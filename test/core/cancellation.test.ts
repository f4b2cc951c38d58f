// The request path's cancellation: what callers relied on from AbortController, and what undici needs of a signal.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { Pool } from 'undici';
import { Cancellation, cancelAfter, type CancelSignal } from '../../src/core/cancellation.js';

test('abort tells each listener once, in order, and only the first abort counts', () => {
  const cancellation = new Cancellation();
  const heard: string[] = [];
  cancellation.addEventListener('abort', () => heard.push('first'), { once: true });
  cancellation.addEventListener('abort', () => heard.push('second'));
  assert.equal(cancellation.aborted, false);
  cancellation.abort('gone');
  cancellation.abort('again');
  assert.deepEqual(heard, ['first', 'second']);
  assert.equal(cancellation.aborted, true);
  assert.equal(cancellation.reason, 'gone');
  assert.equal(cancellation.signal, cancellation);
});

test('a removed listener is not told; a listener added after abort is not called', () => {
  const cancellation = new Cancellation();
  let calls = 0;
  const listener = () => calls++;
  cancellation.addEventListener('abort', listener);
  cancellation.removeEventListener('abort', listener);
  cancellation.abort();
  cancellation.addEventListener('abort', listener);
  assert.equal(calls, 0);
});

test('abort without a reason gives an AbortError, as AbortController does', () => {
  const cancellation = new Cancellation();
  cancellation.abort();
  assert.ok(cancellation.reason instanceof DOMException);
  assert.equal((cancellation.reason as DOMException).name, 'AbortError');
});

test('a listener that throws neither stops the others nor reaches the caller of abort (reported as uncaught, like EventTarget)', () => {
  const script = `
    import { Cancellation } from './src/core/cancellation.ts';
    const cancellation = new Cancellation();
    cancellation.addEventListener('abort', () => { throw new Error('listener failed'); });
    cancellation.addEventListener('abort', () => console.log('second listener told'));
    try { cancellation.abort(); console.log('abort returned'); } catch { console.log('abort threw'); }
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.match(child.stdout, /second listener told\nabort returned/);
  assert.match(child.stderr, /listener failed/);
  assert.notEqual(child.status, 0);
});

test('a real AbortSignal is a CancelSignal', () => {
  const controller = new AbortController();
  const signal: CancelSignal = controller.signal;
  let told = false;
  signal.addEventListener('abort', () => (told = true), { once: true });
  controller.abort();
  assert.equal(told, true);
});

test('cancelAfter fires at its time, follows its parent, and dispose detaches both', async () => {
  const timed = cancelAfter(20);
  await new Promise((resolve) => {
    const keepAlive = setTimeout(resolve, 5_000); // cancelAfter's own timer does not hold the process open
    timed.signal.addEventListener('abort', () => {
      clearTimeout(keepAlive);
      resolve(undefined);
    });
  });
  assert.equal((timed.signal.reason as DOMException).name, 'TimeoutError');

  const parent = new Cancellation();
  const child = cancelAfter(60_000, parent);
  parent.abort('client left');
  assert.equal(child.signal.aborted, true);
  assert.equal(child.signal.reason, 'client left');
  child.dispose();

  // Disposed: neither the parent's abort nor the (short) timer reaches it any more.
  const laterParent = new Cancellation();
  const detached = cancelAfter(10, laterParent);
  detached.dispose();
  laterParent.abort('too late');
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(detached.signal.aborted, false);
});

test('undici aborts a request in flight when a Cancellation passed as its signal aborts', async () => {
  const server = createServer(() => {
    // never answers
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const pool = new Pool(`http://127.0.0.1:${port}`);
  try {
    const cancellation = new Cancellation();
    const pending = pool.request({ path: '/', method: 'GET', signal: cancellation.signal as AbortSignal });
    setTimeout(() => cancellation.abort(new Error('stop waiting')), 20);
    await assert.rejects(pending, /stop waiting/);
  } finally {
    await pool.destroy();
    server.closeAllConnections();
    server.close();
  }
});
