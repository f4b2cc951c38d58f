// The batched log destination: every line arrives, in order; pending lines are bounded; exit writes what is pending.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { BatchedLogWriter, droppedLogLines } from '../../src/observability/log-writer.js';

function tempFile(): { path: string; fd: number; done(): void } {
  const directory = mkdtempSync(join(tmpdir(), 'bw-logw-'));
  const path = join(directory, 'log');
  const fd = openSync(path, 'a');
  return { path, fd, done: () => (closeSync(fd), rmSync(directory, { recursive: true, force: true })) };
}

test('every line arrives in order, in batches, and flush(cb) waits for the write', async () => {
  const file = tempFile();
  const writer = new BatchedLogWriter(file.fd, { batchBytes: 4096, flushMs: 10_000 });
  try {
    for (let index = 0; index < 5000; index++) writer.write(`{"n":${index},"msg":"é line"}\n`);
    await new Promise<void>((resolve) => writer.flush(() => resolve()));
    const lines = readFileSync(file.path, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 5000);
    lines.forEach((line, index) => assert.equal((JSON.parse(line) as { n: number }).n, index));
  } finally {
    writer.close();
    file.done();
  }
});

test('a line larger than a batch is written whole and in order between its neighbours', async () => {
  const file = tempFile();
  const writer = new BatchedLogWriter(file.fd, { batchBytes: 4096, flushMs: 10_000 });
  try {
    const big = `{"big":"${'é'.repeat(3000)}"}\n`;
    writer.write('{"n":1}\n');
    writer.write(big);
    writer.write('{"n":2}\n');
    await new Promise<void>((resolve) => writer.flush(() => resolve()));
    assert.equal(readFileSync(file.path, 'utf8'), `{"n":1}\n${big}{"n":2}\n`);
  } finally {
    writer.close();
    file.done();
  }
});

test('a lone line is written after flushMs without any further traffic', async () => {
  const file = tempFile();
  const writer = new BatchedLogWriter(file.fd, { batchBytes: 1 << 20, flushMs: 20 });
  try {
    writer.write('{"msg":"alone"}\n');
    for (let waited = 0; waited < 5000 && readFileSync(file.path, 'utf8') === ''; waited += 10) await sleep(10);
    assert.equal(readFileSync(file.path, 'utf8'), '{"msg":"alone"}\n');
  } finally {
    writer.close();
    file.done();
  }
});

test('pending lines are bounded: past maxPendingBytes lines are dropped and counted', () => {
  const file = tempFile();
  const writer = new BatchedLogWriter(file.fd, { batchBytes: 1 << 20, flushMs: 60_000, maxPendingBytes: 1000 });
  try {
    const before = droppedLogLines();
    let accepted = 0;
    for (let index = 0; index < 100; index++) if (writer.write(`${'x'.repeat(99)}\n`)) accepted++;
    assert.equal(accepted, 10);
    assert.equal(droppedLogLines() - before, 90);
  } finally {
    writer.close();
    file.done();
  }
});

test('lines still pending when the process exits are written (process.exit right after logging)', () => {
  const script = [
    "import { BatchedLogWriter } from './src/observability/log-writer.ts';",
    'const writer = new BatchedLogWriter(1, { batchBytes: 1 << 20, flushMs: 60_000 });',
    'for (let n = 0; n < 2000; n++) writer.write(`line ${n}\\n`);',
    'process.exit(0);',
  ].join('\n');
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 30_000 });
  assert.equal(child.status, 0, child.stderr);
  const lines = child.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2000);
  assert.equal(lines[1999], 'line 1999');
});
