// Creates Redis clients (ioredis) that fail fast: bounded connect and command times, no offline queue,
// so a Redis outage is detected within the configured time instead of hanging requests.
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';

// Loaded on first use only: a gateway without Redis never pays its memory (~25 MB).
const require = createRequire(import.meta.url);

export interface RedisSettings {
  url: string;
  key_prefix: string;
  command_timeout_ms: number;
}

export function createRedis(settings: RedisSettings, purpose: string): Redis {
  const { Redis: RedisClient } = require('ioredis') as typeof import('ioredis');
  const client = new RedisClient(settings.url, {
    connectionName: `breakwater:${purpose}`,
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: settings.command_timeout_ms,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
  });
  // Errors surface on the commands that fail; the client's own 'error' events would otherwise crash the process.
  client.on('error', () => undefined);
  return client;
}
