// The rate-limiter contract every backend (memory, Redis) implements: token buckets and concurrency leases,
// checked and taken all-or-nothing in one step, then settled with the request's real consumption.

/** One token bucket: refills continuously at `ratePerMinute`, holds at most `capacity` (the burst). */
export interface BucketSpec {
  key: string;
  ratePerMinute: number;
  capacity: number;
  /** Units to take now (1 request, or the estimated tokens). */
  amount: number;
}

/** At most `max` requests under `key` at once; each holds a lease that expires on its own if its holder dies. */
export interface ConcurrencySpec {
  key: string;
  max: number;
  leaseId: string;
  leaseMs: number;
}

export interface AcquireRequest {
  buckets: BucketSpec[];
  concurrency?: ConcurrencySpec;
}

/** A bucket's state after the check, for the `x-ratelimit-*` headers. */
export interface BucketState {
  remaining: number;
  /** Milliseconds until the bucket is full again. */
  resetMs: number;
}

export interface AcquireOutcome {
  allowed: boolean;
  /** When refused: milliseconds until every blocking bucket could serve this request. */
  retryAfterMs: number;
  /** The concurrency limit (not a bucket) refused the request. */
  concurrencyExceeded: boolean;
  /** In the order of `AcquireRequest.buckets`. */
  buckets: BucketState[];
  /** Which backend decided: `local` when the shared limiter was unreachable and fail-open took over. */
  backend: 'memory' | 'redis' | 'local';
  /**
   * Settles an allowed acquisition once the request is over: `refunds[i]` units go back to bucket i (negative
   * takes more, when the real usage exceeded the estimate) and the concurrency lease is released.
   */
  settle(refunds: number[]): Promise<void>;
}

export interface RateLimiter {
  acquire(request: AcquireRequest): Promise<AcquireOutcome>;
  close(): Promise<void>;
}

/** Most buckets one check may involve (the Redis script has this many fixed key slots). */
export const maxBucketsPerCheck = 8;
