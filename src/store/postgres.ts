// Creates the PostgreSQL pool (pg) used by the scale-out backends.
import { createRequire } from 'node:module';
import type pg from 'pg';

// Loaded on first use only: a gateway without PostgreSQL never pays its memory.
const require = createRequire(import.meta.url);

export interface PostgresSettings {
  url: string;
  max_connections: number;
}

export function createPostgresPool(settings: PostgresSettings): pg.Pool {
  const { Pool } = require('pg') as typeof import('pg');
  const pool = new Pool({ connectionString: settings.url, max: settings.max_connections, connectionTimeoutMillis: 2_000, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection must not crash the process; queries report their own errors.
  pool.on('error', () => undefined);
  return pool;
}
