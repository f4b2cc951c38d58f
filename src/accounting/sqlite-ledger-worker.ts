// Worker-thread entry of the threaded SQLite ledger: one connection of its own, statements answered in arrival order.
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from '../store/sqlite.js';
import { answerCalls } from '../core/module-worker.js';
import type { LedgerRequest } from './sqlite-ledger-thread.js';
import { SqliteLedger } from './sqlite-ledger.js';

const { path, table } = workerData as { path: string; table: string };
let ledger: SqliteLedger | undefined;
let migrated = false;

/** Opens and migrates on first use; a failure (disk, lock) is the caller's error and is tried again next time. */
async function ready(): Promise<SqliteLedger> {
  ledger ??= new SqliteLedger(openSqlite(path), table);
  if (!migrated) {
    await ledger.migrate();
    migrated = true;
  }
  return ledger;
}

async function handle(request: LedgerRequest): Promise<unknown> {
  if (request.op === 'close') {
    await ledger?.close();
    ledger = undefined;
    return undefined;
  }
  const open = await ready();
  switch (request.op) {
    case 'insert':
      return open.insert(request.records);
    case 'report':
      return open.report(request.groupBy, request.range, request.limit);
    case 'total':
      return open.total(request.range);
    case 'spendOf':
      return open.spendOf(request.scope, request.subject, request.from);
  }
}

if (parentPort) answerCalls<LedgerRequest>(parentPort, handle);
