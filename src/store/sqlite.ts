// Opens the embedded SQLite store (one file shared by the modules that persist state), in WAL mode.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

const open = new Map<string, { database: SqliteDatabase; users: number }>();

/**
 * Returns the database at `path` (`:memory:` for tests), opening it on first use. Modules create their
 * own tables (`CREATE TABLE IF NOT EXISTS`) and call `releaseSqlite` when they close.
 */
export function openSqlite(path: string): SqliteDatabase {
  const existing = open.get(path);
  if (existing && path !== ':memory:') {
    existing.users++;
    return existing.database;
  }
  // Opening happens once at start-up, never on the request path, so the synchronous mkdir is fine here.
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new Database(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  if (path !== ':memory:') open.set(path, { database, users: 1 });
  return database;
}

export function releaseSqlite(database: SqliteDatabase): void {
  for (const [path, entry] of open) {
    if (entry.database !== database) continue;
    entry.users--;
    if (entry.users > 0) return;
    open.delete(path);
  }
  if (database.open) database.close();
}
