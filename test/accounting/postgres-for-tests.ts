// Test helper: a pool on a fresh schema of the machine's PostgreSQL (dropped at the end), or undefined outside CI when it is down.
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export const testPostgresUrl = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  /** A connection URL whose search_path is the fresh schema. */
  url: string;
  schema: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

export async function createTestSchema(label: string): Promise<TestSchema | undefined> {
  const schema = `bw_${label}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new pg.Pool({ connectionString: testPostgresUrl, max: 1, connectionTimeoutMillis: 2_000 });
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } catch (error) {
    await admin.end();
    if (process.env.CI === 'true') throw error;
    return undefined;
  }
  const url = withSearchPath(testPostgresUrl, schema);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  return {
    url,
    schema,
    pool,
    drop: async () => {
      await pool.end().catch(() => undefined);
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

export function withSearchPath(url: string, schema: string): string {
  const separator = url.includes('?') ? '&' : '?';
  return `${url}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}
