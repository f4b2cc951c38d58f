// The SQLite ledger in its worker thread under the batched writer: started on first use, every record written once,
// a dead worker replaced (its batch retried), an unusable database spooled and replayed once it is usable again.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { LedgerWriter } from '../../src/accounting/ledger-writer.js';
import type { SpendRecord } from '../../src/accounting/spend-ledger.js';
import { SpoolFile } from '../../src/accounting/spool-file.js';
import { ThreadedSqliteLedger } from '../../src/accounting/sqlite-ledger-thread.js';

let sequence = 0;
const record = (): SpendRecord => ({
  id: `t-${++sequence}`,
  requestId: `t-${sequence}`,
  timestamp: Date.now(),
  keyId: 'k',
  user: 'u',
  team: null,
  session: null,
  model: 'sim-fast',
  provider: 'sim',
  route: '/v1/chat/completions',
  promptTokens: 3,
  completionTokens: 4,
  cachedTokens: 0,
  costUsd: 0.002,
  latencyMs: 1,
  status: 200,
  errorCode: null,
  stream: sequence % 2 === 0,
});

function rowsIn(path: string): number {
  const database = new Database(path, { readonly: true });
  try {
    return (database.prepare('SELECT COUNT(DISTINCT id) AS count FROM bw_spend').get() as { count: number }).count;
  } finally {
    database.close();
  }
}

/** The writer backs off on a referenced timer: nothing else keeps the test process alive meanwhile. */
async function setup(path: string, errors: string[] = []) {
  const directory = await mkdtemp(join(tmpdir(), 'bw-ledger-thread-writer-'));
  const ledger = new ThreadedSqliteLedger(path, { onError: (message) => errors.push(message) });
  const spool = new SpoolFile(join(directory, 'spool.jsonl'));
  const writer = new LedgerWriter(ledger, spool, { batchSize: 10, flushIntervalMs: 60_000, retryAttempts: 3, retryBaseMs: 1, replayIntervalMs: 60_000, maxQueue: 1_000, gatewayId: 0, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) });
  await writer.start();
  return { ledger, spool, writer, cleanup: () => rm(directory, { recursive: true, force: true }) };
}

test('the worker starts with the first batch, writes every record once, and stops on close', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'bw-ledger-thread-'));
  const path = join(directory, 'ledger.db');
  const { ledger, writer, cleanup } = await setup(path);
  assert.equal(ledger.running, false, 'an idle gateway holds no ledger thread');
  for (let index = 0; index < 45; index++) writer.write(record());
  await writer.flush();
  assert.equal(ledger.running, true);
  assert.equal(rowsIn(path), 45);
  assert.deepEqual(await ledger.total({ from: 0, to: Date.now() + 1 }), { requests: 45, promptTokens: 135, completionTokens: 180, costUsd: 0.09 });
  for (let index = 0; index < 5; index++) writer.write(record());
  await writer.close();
  await ledger.close();
  assert.equal(ledger.running, false);
  assert.equal(rowsIn(path), 50, 'the records still queued at shutdown were flushed');
  await cleanup();
  await rm(directory, { recursive: true, force: true });
});

test('a worker that dies mid-batch is replaced and the retried batch lands exactly once', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'bw-ledger-thread-'));
  const path = join(directory, 'ledger.db');
  const errors: string[] = [];
  const { ledger, writer, cleanup } = await setup(path, errors);
  for (let index = 0; index < 10; index++) writer.write(record());
  await writer.flush();
  for (let index = 0; index < 30; index++) writer.write(record());
  const flushed = writer.flush();
  // Kill the thread while the batches are on their way (a crash in native code, an out-of-memory worker).
  await (ledger as unknown as { calls: { worker: Worker } }).calls.worker.terminate();
  await flushed;
  assert.equal(writer.spooling, false);
  assert.equal(rowsIn(path), 40);
  assert.ok(errors.some((message) => message.includes('worker stopped')), 'the dead worker was reported');
  await writer.close();
  await ledger.close();
  await cleanup();
  await rm(directory, { recursive: true, force: true });
});

test('a database that cannot be opened: batches spool; once it can, the replay writes each record once', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'bw-ledger-thread-'));
  // The database's folder is a plain file for now, so the worker cannot open it.
  const blocker = join(directory, 'state');
  await writeFile(blocker, 'not a folder');
  const path = join(blocker, 'ledger.db');
  const { ledger, spool, writer, cleanup } = await setup(path);
  for (let index = 0; index < 25; index++) writer.write(record());
  await writer.flush();
  assert.equal(writer.spooling, true);
  assert.ok((await spool.size()) > 0);
  await rm(blocker);
  await mkdir(blocker);
  await writer.close();
  await ledger.close();
  assert.equal(rowsIn(path), 25);
  assert.equal(await spool.size(), 0);
  await cleanup();
  await rm(directory, { recursive: true, force: true });
});
