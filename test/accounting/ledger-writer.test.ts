// The batched ledger writer never drops a record: retries, spools to a local file while the store is down, replays after.
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LedgerWriter } from '../../src/accounting/ledger-writer.js';
import type { SpendLedger, SpendRecord } from '../../src/accounting/spend-ledger.js';
import { SpoolFile } from '../../src/accounting/spool-file.js';

class FlakyLedger implements SpendLedger {
  readonly rows = new Map<string, SpendRecord>();
  down = false;
  failuresLeft = 0;
  inserts = 0;
  async migrate(): Promise<void> {}
  async insert(records: readonly SpendRecord[]): Promise<void> {
    this.inserts++;
    if (this.down) throw new Error('connection refused');
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('transient');
    }
    for (const record of records) if (!this.rows.has(record.id)) this.rows.set(record.id, record);
  }
  async report() {
    return [];
  }
  async total() {
    return { requests: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 };
  }
  async spendOf() {
    return { costUsd: 0, tokens: 0 };
  }
  async close(): Promise<void> {}
}

let sequence = 0;
const record = (): SpendRecord => ({
  id: `r-${++sequence}`,
  requestId: `r-${sequence}`,
  timestamp: Date.now(),
  keyId: 'k',
  user: null,
  team: null,
  session: null,
  model: 'sim-fast',
  provider: 'sim',
  route: '/v1/chat/completions',
  promptTokens: 1,
  completionTokens: 1,
  cachedTokens: 0,
  costUsd: 0.001,
  latencyMs: 1,
  status: 200,
  errorCode: null,
  stream: false,
});

async function setup() {
  const directory = await mkdtemp(join(tmpdir(), 'bw-writer-'));
  const ledger = new FlakyLedger();
  const spool = new SpoolFile(join(directory, 'spool.jsonl'));
  const writer = new LedgerWriter(ledger, spool, { batchSize: 10, flushIntervalMs: 60_000, retryAttempts: 3, retryBaseMs: 1, replayIntervalMs: 60_000, maxQueue: 1_000, gatewayId: 0, sleep: async () => undefined });
  await writer.start();
  return { ledger, spool, writer };
}

test('a transient failure is retried and the batch lands once', async () => {
  const { ledger, writer } = await setup();
  ledger.failuresLeft = 2;
  for (let index = 0; index < 25; index++) writer.write(record());
  await writer.flush();
  assert.equal(ledger.rows.size, 25);
  assert.equal(writer.spooling, false);
  await writer.close();
});

test('store down: records go to the spool; on recovery the replay delivers every one exactly once', async () => {
  const { ledger, spool, writer } = await setup();
  ledger.down = true;
  for (let index = 0; index < 37; index++) writer.write(record());
  await writer.flush();
  assert.equal(writer.spooling, true);
  assert.equal(ledger.rows.size, 0);
  const spooled = (await readFile(spool.path, 'utf8')).trim().split('\n');
  assert.equal(spooled.length, 37);
  // More traffic while down goes straight to the spool (no retry storm against a dead store).
  const insertsBefore = ledger.inserts;
  for (let index = 0; index < 5; index++) writer.write(record());
  await writer.flush();
  assert.equal(ledger.inserts, insertsBefore);
  ledger.down = false;
  await writer.close();
  assert.equal(ledger.rows.size, 42);
  assert.equal(await spool.size(), 0, 'the spool is emptied once replayed');
});

test('records spooled by a previous run are replayed at start', async () => {
  const first = await setup();
  first.ledger.down = true;
  for (let index = 0; index < 3; index++) first.writer.write(record());
  await first.writer.close();
  assert.equal(first.ledger.rows.size, 0);
  const ledger = new FlakyLedger();
  const writer = new LedgerWriter(ledger, first.spool, { batchSize: 10, flushIntervalMs: 60_000, retryAttempts: 1, retryBaseMs: 1, replayIntervalMs: 60_000, maxQueue: 1_000, gatewayId: 0 });
  await writer.start();
  assert.equal(ledger.rows.size, 3);
  await writer.close();
});
