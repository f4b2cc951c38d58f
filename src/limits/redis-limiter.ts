// Shared rate limiter on Redis: every check (all buckets + the concurrency lease) is one atomic Lua call, so
// replicas draw on one budget; settling is another.
import type { Redis } from 'ioredis';
import { LuaScript } from './lua-script.js';
import type { Clock } from './memory-limiter.js';
import { maxBucketsPerCheck, type AcquireOutcome, type AcquireRequest, type BucketState, type RateLimiter } from './rate-limiter.js';

const acquireScript = new LuaScript('acquire-9.lua');
const settleScript = new LuaScript('settle-9.lua');

export class RedisLimiter implements RateLimiter {
  constructor(
    private readonly client: Redis,
    private readonly keyPrefix: string,
    private readonly clock: Clock = Date.now,
  ) {}

  async acquire(request: AcquireRequest): Promise<AcquireOutcome> {
    if (request.buckets.length > maxBucketsPerCheck) throw new Error(`at most ${maxBucketsPerCheck} buckets per check`);
    const keys = this.keys(request);
    const concurrency = request.concurrency;
    const args: Array<string | number> = [this.clock(), concurrency?.max ?? 0, concurrency?.leaseId ?? '', concurrency?.leaseMs ?? 0];
    for (let index = 0; index < maxBucketsPerCheck; index++) {
      const bucket = request.buckets[index];
      args.push(bucket ? bucket.ratePerMinute : 0, bucket ? bucket.capacity : 0, bucket ? bucket.amount : 0);
    }
    const reply = (await acquireScript.run(this.client, keys, args)) as number[];
    const buckets: BucketState[] = request.buckets.map((_bucket, index) => ({ remaining: Number(reply[3 + 2 * index]), resetMs: Number(reply[4 + 2 * index]) }));
    const allowed = reply[0] === 1;
    return {
      allowed,
      retryAfterMs: Number(reply[1]),
      concurrencyExceeded: reply[2] === 1,
      buckets,
      backend: 'redis',
      settle: async (refunds) => {
        const settleArgs: Array<string | number> = [this.clock(), concurrency?.leaseId ?? ''];
        let needed = concurrency !== undefined;
        for (let index = 0; index < maxBucketsPerCheck; index++) {
          const bucket = request.buckets[index];
          const refund = refunds[index] ?? 0;
          if (bucket && refund !== 0) needed = true;
          settleArgs.push(bucket ? bucket.ratePerMinute : 0, bucket ? bucket.capacity : 0, bucket ? refund : 0);
        }
        if (needed) await settleScript.run(this.client, keys, settleArgs);
      },
    };
  }

  async close(): Promise<void> {
    // The client belongs to whoever created it.
  }

  private keys(request: AcquireRequest): string[] {
    const keys: string[] = [];
    for (let index = 0; index < maxBucketsPerCheck; index++) keys.push(this.keyPrefix + (request.buckets[index]?.key ?? 'unused'));
    keys.push(this.keyPrefix + (request.concurrency?.key ?? 'unused:concurrency'));
    return keys;
  }
}
