// Opens the configured spend ledger (SQLite or PostgreSQL) outside the gateway (the CLI's spend report).
import type { Config } from '../config/schema.js';
import { createPostgresPool } from '../store/postgres.js';
import { openSqlite } from '../store/sqlite.js';
import { PostgresLedger } from './postgres-ledger.js';
import type { SpendLedger } from './spend-ledger.js';
import { SqliteLedger } from './sqlite-ledger.js';

export async function openLedger(config: Config): Promise<SpendLedger> {
  const postgres = config.stores.postgres;
  const choice = config.accounting.ledger.store;
  const onPostgres = choice === 'postgres' || (choice === 'auto' && postgres !== undefined);
  const ledger = onPostgres && postgres ? new PostgresLedger(createPostgresPool(postgres), true) : new SqliteLedger(openSqlite(config.stores.sqlite.path));
  await ledger.migrate();
  return ledger;
}
