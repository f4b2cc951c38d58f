// WorkerCalls: request/answer calls to a worker module (the spend ledger's and the trace exporter's threads).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerCalls } from '../../src/core/module-worker.js';

function echoWorker(lost: Error[] = []): WorkerCalls {
  return new WorkerCalls({ callerUrl: new URL('./fixtures/caller.ts', import.meta.url).href, module: 'echo-worker', name: 'echo', workerData: { prefix: 'p' }, onLost: (error) => lost.push(error) });
}

test('answers each call by its id, with the worker data; errors reject with their message; buffers can be moved', async () => {
  const calls = echoWorker();
  assert.equal(calls.running, false, 'no thread before the first call');
  const answers = await Promise.all([calls.call({ op: 'echo', text: 'one' }), calls.call({ op: 'echo', text: 'two' })]);
  assert.deepEqual(
    answers.map((answer) => (answer as { text: string }).text),
    ['one', 'two'],
  );
  assert.equal((answers[0] as { prefix: string }).prefix, 'p');
  await assert.rejects(calls.call({ op: 'fail', text: 'no' }), /refused: no/);
  const bytes = new TextEncoder().encode('moved');
  assert.equal(await calls.call({ op: 'bytes', bytes }, [bytes.buffer as ArrayBuffer]), 'moved');
  assert.equal(bytes.byteLength, 0, 'the buffer was transferred, not copied');
  await calls.close();
  assert.equal(calls.running, false);
  await assert.rejects(calls.call({ op: 'echo' }), /echo is closed/);
});

test('a worker that dies fails the calls waiting on it, is reported, and the next call starts another', async () => {
  const lost: Error[] = [];
  const calls = echoWorker(lost);
  const first = (await calls.call({ op: 'echo', text: 'a' })) as { threadId: number };
  await assert.rejects(calls.call({ op: 'crash' }), /echo exited with code 3/);
  assert.equal(lost.length, 1);
  const second = (await calls.call({ op: 'echo', text: 'b' })) as { threadId: number; text: string };
  assert.equal(second.text, 'b');
  assert.notEqual(second.threadId, first.threadId, 'a new thread answered');
  await calls.close();
  assert.equal(lost.length, 1, 'closing is not a loss');
});
