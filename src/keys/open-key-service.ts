// Opens the configured key store (SQLite or PostgreSQL) as a key service outside the gateway (the CLI), with
// revocations announced over Redis when it is configured, so running gateways drop the key at once.
import { once } from 'node:events';
import type { Config } from '../config/schema.js';
import { createPostgresPool } from '../store/postgres.js';
import { createRedis } from '../store/redis.js';
import { openSqlite } from '../store/sqlite.js';
import type { KeyStore } from './key-record.js';
import { KeyService } from './key-service.js';
import { PostgresKeyStore } from './postgres-key-store.js';
import { RedisRevocationBus } from './revocation-bus.js';
import { SqliteKeyStore } from './sqlite-key-store.js';

export async function openKeyService(config: Config): Promise<{ keys: KeyService; close: () => Promise<void> }> {
  const postgres = config.stores.postgres;
  const onPostgres = config.keys.store === 'postgres' || (config.keys.store === 'auto' && postgres !== undefined);
  const store: KeyStore = onPostgres && postgres ? new PostgresKeyStore(createPostgresPool(postgres), true) : new SqliteKeyStore(openSqlite(config.stores.sqlite.path));
  const redisSettings = config.stores.redis;
  const publisher = redisSettings ? createRedis({ ...redisSettings, command_timeout_ms: Math.max(redisSettings.command_timeout_ms, 2_000) }, 'cli-keys') : undefined;
  const bus = publisher ? new RedisRevocationBus(publisher, publisher, redisSettings?.key_prefix ?? 'bw:') : undefined;
  // The shared clients do not queue commands while connecting: wait (bounded) until the publisher is ready.
  if (publisher && publisher.status !== 'ready') await Promise.race([once(publisher, 'ready'), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  const keys = new KeyService(store, bus, { cacheTtlMs: 0 });
  await store.migrate();
  return {
    keys,
    close: async () => {
      await store.close();
      publisher?.disconnect();
    },
  };
}
