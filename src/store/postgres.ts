// Creates the PostgreSQL pool (pg) used by the scale-out backends.
import pg from 'pg';

export interface PostgresSettings {
  url: string;
  max_connections: number;
}

export function createPostgresPool(settings: PostgresSettings): pg.Pool {
  const pool = new pg.Pool({ connectionString: settings.url, max: settings.max_connections, connectionTimeoutMillis: 2_000, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection must not crash the process; queries report their own errors.
  pool.on('error', () => undefined);
  return pool;
}
