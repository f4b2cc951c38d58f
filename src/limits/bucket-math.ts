// Token-bucket arithmetic shared by the in-memory limiter (the Redis Lua scripts implement the same rules).

export interface BucketValue {
  tokens: number;
  /** Clock time (ms) `tokens` was computed at. */
  at: number;
}

/** The bucket refilled up to `now`; a bucket never seen is full. */
export function refill(value: BucketValue | undefined, ratePerMinute: number, capacity: number, now: number): number {
  if (!value) return capacity;
  const elapsed = Math.max(0, now - value.at);
  return Math.min(capacity, value.tokens + (elapsed * ratePerMinute) / 60_000);
}

/** Whether `amount` can be taken. A full bucket always serves one request, even one larger than the bucket (it then goes into debt). */
export function canTake(tokens: number, amount: number, capacity: number): boolean {
  return tokens >= amount || tokens >= capacity;
}

/** Milliseconds until `canTake` holds. */
export function waitFor(tokens: number, amount: number, ratePerMinute: number, capacity: number): number {
  const needed = Math.min(amount, capacity) - tokens;
  return needed <= 0 ? 0 : Math.ceil((needed * 60_000) / ratePerMinute);
}

/** Milliseconds until the bucket is full. */
export function timeToFull(tokens: number, ratePerMinute: number, capacity: number): number {
  return tokens >= capacity ? 0 : Math.ceil(((capacity - tokens) * 60_000) / ratePerMinute);
}
