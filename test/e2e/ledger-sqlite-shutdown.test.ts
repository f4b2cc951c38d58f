// A gateway process on the embedded SQLite ledger (written by its worker thread) stopped with SIGTERM right after a
// burst: the drain flushes every record through the worker before exit; the file holds each request exactly once.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { startReplica, type Replica } from './replicas-support.js';

// A long flush interval: the records are still queued in memory when SIGTERM arrives.
const yaml = `
server: { drain_seconds: 5 }
logging: { level: info }
stores:
  sqlite: { path: "{{dir}}/breakwater.db" }
accounting:
  ledger: { store: sqlite, flush_interval_ms: 60000, batch_size: 500 }
providers:
  - name: sim
    type: sim
    models: [sim-fast]
`;

describe('SQLite ledger through its worker thread across a graceful shutdown', { timeout: 60_000 }, () => {
  let replica: Replica | undefined;
  after(async () => replica?.stop());

  test('every served request is in the ledger file once after SIGTERM', async () => {
    replica = await startReplica(yaml);
    const requestIds: string[] = [];
    const answers = await Promise.all(
      Array.from({ length: 40 }, async (_unused, index) => {
        const requestId = `shutdown-${index}-${Date.now()}`;
        requestIds.push(requestId);
        const response = await fetch(`${replica?.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': requestId },
          body: JSON.stringify({ model: 'sim-fast', max_tokens: 8, stream: index % 2 === 0, messages: [{ role: 'user', content: `request ${index}` }] }),
        });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    assert.deepEqual(new Set(answers), new Set([200]));
    await replica.stop();
    assert.equal(replica.process.exitCode, 0, replica.output());
    const database = new Database(join(replica.directory, 'breakwater.db'), { readonly: true });
    try {
      const rows = database.prepare('SELECT request_id FROM bw_spend').all() as Array<{ request_id: string }>;
      assert.deepEqual(rows.map((row) => row.request_id).sort(), [...requestIds].sort());
    } finally {
      database.close();
    }
  });
});
