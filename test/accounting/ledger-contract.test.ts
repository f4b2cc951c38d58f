// One contract suite for the spend ledger: SQLite (on the event loop, and in its worker thread) and PostgreSQL (real
// server on this machine).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PostgresLedger } from '../../src/accounting/postgres-ledger.js';
import type { SpendLedger, SpendRecord } from '../../src/accounting/spend-ledger.js';
import { SqliteLedger } from '../../src/accounting/sqlite-ledger.js';
import { ThreadedSqliteLedger } from '../../src/accounting/sqlite-ledger-thread.js';
import { openSqlite } from '../../src/store/sqlite.js';
import { createTestSchema, type TestSchema } from './postgres-for-tests.js';

const schemas: TestSchema[] = [];
const directories: string[] = [];
after(async () => {
  for (const schema of schemas) await schema.drop();
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

const backends: Array<{ name: string; make: () => Promise<SpendLedger | undefined> }> = [
  { name: 'sqlite', make: async () => new SqliteLedger(openSqlite(':memory:')) },
  {
    name: 'sqlite (worker thread)',
    make: async () => {
      const directory = await mkdtemp(join(tmpdir(), 'bw-ledger-thread-'));
      directories.push(directory);
      return new ThreadedSqliteLedger(join(directory, 'ledger.db'));
    },
  },
  {
    name: 'postgres',
    make: async () => {
      const schema = await createTestSchema('ledger');
      if (!schema) return undefined;
      schemas.push(schema);
      return new PostgresLedger(schema.pool, false);
    },
  },
];

const day = Date.UTC(2025, 2, 14);
let sequence = 0;
function record(overrides: Partial<SpendRecord> = {}): SpendRecord {
  sequence++;
  return {
    id: `record-${sequence}`,
    requestId: `request-${sequence}`,
    timestamp: day + sequence * 1_000,
    keyId: 'key-a',
    user: 'alice',
    team: 'research',
    session: 'session-1',
    model: 'sim-fast',
    provider: 'sim',
    route: '/v1/chat/completions',
    promptTokens: 10,
    completionTokens: 20,
    cachedTokens: 0,
    costUsd: 0.01,
    latencyMs: 12.5,
    status: 200,
    errorCode: null,
    stream: false,
    ...overrides,
  };
}

for (const backend of backends) {
  describe(`spend ledger contract: ${backend.name}`, () => {
    const ledger = async (context: { skip: (message: string) => void }) => {
      const made = await backend.make();
      if (!made) {
        context.skip('PostgreSQL is not running');
        return undefined;
      }
      await made.migrate();
      await made.migrate();
      return made;
    };
    const range = { from: day, to: day + 86_400_000 };

    test('records are grouped by key, user, team, model, session and provider within the range', async (context) => {
      const subject = await ledger(context);
      if (!subject) return;
      await subject.insert([
        record(),
        record({ costUsd: 0.02, user: 'bob', session: 'session-2' }),
        record({ keyId: 'key-b', team: 'ops', model: 'sim-smart', costUsd: 0.5, user: null }),
        record({ timestamp: day - 1, costUsd: 9 }),
        record({ timestamp: day + 86_400_000, costUsd: 9 }),
      ]);
      const byKey = await subject.report('key', range);
      assert.deepEqual(byKey, [
        { group: 'key-b', requests: 1, promptTokens: 10, completionTokens: 20, costUsd: 0.5 },
        { group: 'key-a', requests: 2, promptTokens: 20, completionTokens: 40, costUsd: 0.03 },
      ]);
      assert.deepEqual(
        (await subject.report('user', range)).map((row) => [row.group, row.costUsd]),
        [
          [null, 0.5],
          ['bob', 0.02],
          ['alice', 0.01],
        ],
      );
      assert.deepEqual((await subject.report('team', range)).map((row) => row.group), ['ops', 'research']);
      assert.deepEqual((await subject.report('model', range)).map((row) => row.group), ['sim-smart', 'sim-fast']);
      assert.deepEqual((await subject.report('session', range)).map((row) => [row.group, row.requests]), [
        ['session-1', 2],
        ['session-2', 1],
      ]);
      assert.deepEqual(await subject.total(range), { requests: 3, promptTokens: 30, completionTokens: 60, costUsd: 0.53 });
      await subject.close();
    });

    test('inserting the same record twice keeps one (replays are idempotent)', async (context) => {
      const subject = await ledger(context);
      if (!subject) return;
      const once = record({ timestamp: day + 5 });
      await subject.insert([once]);
      await subject.insert([once, { ...once, costUsd: 5 }]);
      assert.deepEqual(await subject.total({ from: day, to: day + 10 }), { requests: 1, promptTokens: 10, completionTokens: 20, costUsd: 0.01 });
      await subject.close();
    });

    test('spend of one subject since an instant (budget seeding)', async (context) => {
      const subject = await ledger(context);
      if (!subject) return;
      await subject.insert([record({ keyId: 'seed', costUsd: 0.25, timestamp: day + 100 }), record({ keyId: 'seed', costUsd: 0.5, timestamp: day - 100 })]);
      assert.deepEqual(await subject.spendOf('key', 'seed', day), { costUsd: 0.25, tokens: 30 });
      assert.deepEqual(await subject.spendOf('user', 'nobody', day), { costUsd: 0, tokens: 0 });
      assert.ok((await subject.spendOf('global', '', day)).costUsd >= 0.25);
      await subject.close();
    });

    test('a large batch goes in whole', async (context) => {
      const subject = await ledger(context);
      if (!subject) return;
      const batch = Array.from({ length: 500 }, () => record({ keyId: 'bulk', timestamp: day + 50_000_000 }));
      await subject.insert(batch);
      const rows = await subject.report('key', { from: day + 50_000_000, to: day + 50_000_001 });
      assert.deepEqual(rows.map((row) => [row.group, row.requests]), [['bulk', 500]]);
      await subject.close();
    });
  });
}
