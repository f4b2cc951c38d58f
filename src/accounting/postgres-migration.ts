// Runs DDL under a transaction-scoped advisory lock, so replicas starting together do not race on CREATE TABLE.
import type pg from 'pg';

export async function migratePostgres(pool: pg.Pool, ddl: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('breakwater:migrations'))`);
    await client.query(ddl);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
