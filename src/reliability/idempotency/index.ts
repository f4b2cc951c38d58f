// Builds the idempotency step from the config: SQLite by default, Redis when configured (or asked for).
import type { Config } from '../../config/schema.js';
import type { ChatStep } from '../../pipeline/context.js';
import { createRedis } from '../../store/redis.js';
import type { Clock } from '../clock.js';
import { RedisIdempotencyStore } from './redis-store.js';
import { SqliteIdempotencyStore } from './sqlite-store.js';
import { idempotencyStep } from './step.js';
import type { IdempotencyStore } from './store.js';

export interface Idempotency {
  step: ChatStep;
  store: IdempotencyStore;
  backend: 'sqlite' | 'redis';
}

export async function createIdempotency(config: Config, clock: Clock): Promise<Idempotency | undefined> {
  const settings = config.reliability.idempotency;
  if (!settings.enabled) return undefined;
  const redisSettings = config.stores.redis;
  const useRedis = settings.backend === 'redis' || (settings.backend === 'auto' && redisSettings !== undefined);
  let store: IdempotencyStore;
  if (useRedis) {
    if (!redisSettings) throw new Error('reliability.idempotency.backend is redis but stores.redis is not configured');
    // A bounded command time decides fast when Redis is down; idempotency then errors rather than risk a double run.
    store = await RedisIdempotencyStore.create(createRedis({ ...redisSettings, command_timeout_ms: Math.max(redisSettings.command_timeout_ms, 2_000) }, 'idempotency'), redisSettings.key_prefix);
  } else {
    store = new SqliteIdempotencyStore(config.stores.sqlite.path, clock);
  }
  return { step: idempotencyStep(store, settings, clock), store, backend: useRedis ? 'redis' : 'sqlite' };
}
