// In-process rate limiter: token buckets and concurrency leases in Maps (one gateway process; also the fail-open fallback).
import { canTake, refill, timeToFull, waitFor, type BucketValue } from './bucket-math.js';
import type { AcquireOutcome, AcquireRequest, BucketSpec, BucketState, RateLimiter } from './rate-limiter.js';

export type Clock = () => number;

/** Past this many buckets, full (idle) ones are swept: they are equivalent to absent ones. */
const sweepThreshold = 50_000;

export class MemoryLimiter implements RateLimiter {
  private readonly buckets = new Map<string, BucketValue & { fullAt: number }>();
  private readonly leases = new Map<string, Map<string, number>>();

  constructor(
    private readonly clock: Clock = Date.now,
    private readonly backendName: 'memory' | 'local' = 'memory',
  ) {}

  async acquire(request: AcquireRequest): Promise<AcquireOutcome> {
    const now = this.clock();
    const levels = request.buckets.map((bucket) => refill(this.buckets.get(bucket.key), bucket.ratePerMinute, bucket.capacity, now));
    let retryAfterMs = 0;
    let allowed = true;
    request.buckets.forEach((bucket, index) => {
      const tokens = levels[index] ?? 0;
      if (!canTake(tokens, bucket.amount, bucket.capacity)) {
        allowed = false;
        retryAfterMs = Math.max(retryAfterMs, waitFor(tokens, bucket.amount, bucket.ratePerMinute, bucket.capacity));
      }
    });
    let concurrencyExceeded = false;
    const concurrency = request.concurrency;
    if (allowed && concurrency) {
      const held = this.liveLeases(concurrency.key, now);
      if (held.size >= concurrency.max) {
        allowed = false;
        concurrencyExceeded = true;
        retryAfterMs = Math.max(retryAfterMs, 1_000);
      } else {
        held.set(concurrency.leaseId, now + concurrency.leaseMs);
      }
    }
    if (allowed) request.buckets.forEach((bucket, index) => (levels[index] = (levels[index] ?? 0) - bucket.amount));
    const states: BucketState[] = request.buckets.map((bucket, index) => {
      const tokens = levels[index] ?? 0;
      if (allowed) this.store(bucket, tokens, now);
      return { remaining: Math.max(0, Math.floor(tokens)), resetMs: timeToFull(tokens, bucket.ratePerMinute, bucket.capacity) };
    });
    const outcome: AcquireOutcome = {
      allowed,
      retryAfterMs,
      concurrencyExceeded,
      buckets: states,
      backend: this.backendName,
      settle: async (refunds) => {
        const settledAt = this.clock();
        request.buckets.forEach((bucket, index) => {
          const refund = refunds[index] ?? 0;
          if (refund === 0) return;
          const tokens = refill(this.buckets.get(bucket.key), bucket.ratePerMinute, bucket.capacity, settledAt);
          this.store(bucket, Math.min(bucket.capacity, tokens + refund), settledAt);
        });
        if (concurrency) this.leases.get(concurrency.key)?.delete(concurrency.leaseId);
      },
    };
    return outcome;
  }

  async close(): Promise<void> {
    this.buckets.clear();
    this.leases.clear();
  }

  private store(bucket: BucketSpec, tokens: number, now: number): void {
    if (this.buckets.size > sweepThreshold) this.sweep(now);
    this.buckets.set(bucket.key, { tokens, at: now, fullAt: now + timeToFull(tokens, bucket.ratePerMinute, bucket.capacity) });
  }

  private sweep(now: number): void {
    for (const [key, value] of this.buckets) if (value.fullAt <= now) this.buckets.delete(key);
    for (const [key, held] of this.leases) if (held.size === 0) this.leases.delete(key);
  }

  private liveLeases(key: string, now: number): Map<string, number> {
    let held = this.leases.get(key);
    if (!held) {
      held = new Map();
      this.leases.set(key, held);
    }
    for (const [leaseId, expiresAt] of held) if (expiresAt <= now) held.delete(leaseId);
    return held;
  }
}
