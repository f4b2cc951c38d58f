// Idempotency records in Redis, shared by every replica: atomic Lua scripts (src/reliability/idempotency/lua/), EVALSHA.
import { readFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import type { BeginResult, IdempotencyStore, StoredResponse } from './store.js';

type ScriptedRedis = Redis & {
  idempotencyBegin(key: string, fingerprint: string, lockTtlMs: number): Promise<string[]>;
  idempotencyComplete(key: string, fingerprint: string, response: string, ttlMs: number): Promise<number>;
  idempotencyRelease(key: string, fingerprint: string): Promise<number>;
};

const scripts = ['idempotency-begin-1', 'idempotency-complete-1', 'idempotency-release-1'] as const;
const commandNames: Record<(typeof scripts)[number], string> = {
  'idempotency-begin-1': 'idempotencyBegin',
  'idempotency-complete-1': 'idempotencyComplete',
  'idempotency-release-1': 'idempotencyRelease',
};

export class RedisIdempotencyStore implements IdempotencyStore {
  private constructor(
    private readonly redis: ScriptedRedis,
    private readonly prefix: string,
  ) {}

  /** Loads the Lua scripts once (ioredis then calls them by EVALSHA, re-sending the source only if Redis lost it). */
  static async create(redis: Redis, prefix: string): Promise<RedisIdempotencyStore> {
    for (const script of scripts) {
      const lua = await readFile(new URL(`./lua/${script}.lua`, import.meta.url), 'utf8');
      redis.defineCommand(commandNames[script], { numberOfKeys: 1, lua });
    }
    return new RedisIdempotencyStore(redis as ScriptedRedis, `${prefix}idem:`);
  }

  async begin(key: string, fingerprint: string, lockTtlMs: number): Promise<BeginResult> {
    const [state, holder, response] = await this.redis.idempotencyBegin(this.prefix + key, fingerprint, lockTtlMs);
    if (state === 'acquired') return { state: 'acquired' };
    if (state === 'done' && response !== undefined) return { state: 'done', fingerprint: holder ?? '', response: JSON.parse(response) as StoredResponse };
    return { state: 'in-flight', fingerprint: holder ?? '' };
  }

  async complete(key: string, fingerprint: string, response: StoredResponse, ttlMs: number): Promise<void> {
    await this.redis.idempotencyComplete(this.prefix + key, fingerprint, JSON.stringify(response), ttlMs);
  }

  async release(key: string, fingerprint: string): Promise<void> {
    await this.redis.idempotencyRelease(this.prefix + key, fingerprint);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
