// OpenAI's rate-limit response headers (x-ratelimit-limit-*, -remaining-*, -reset-*) from the buckets of a check.

/** `250ms`, `1s`, `6m0s`, `1h2m3s`: the duration format OpenAI uses in x-ratelimit-reset-*. */
export function formatResetDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const totalSeconds = ms / 1_000;
  const hours = Math.floor(totalSeconds / 3_600);
  const minutes = Math.floor((totalSeconds % 3_600) / 60);
  const seconds = Math.round((totalSeconds % 60) * 1_000) / 1_000;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

export interface HeaderBucket {
  kind: 'requests' | 'tokens';
  limit: number;
  remaining: number;
  resetMs: number;
}

/** For each kind, the tightest bucket (least remaining) speaks for the request. */
export function rateLimitHeaders(buckets: readonly HeaderBucket[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const kind of ['requests', 'tokens'] as const) {
    let tightest: HeaderBucket | undefined;
    for (const bucket of buckets) if (bucket.kind === kind && (!tightest || bucket.remaining < tightest.remaining)) tightest = bucket;
    if (!tightest) continue;
    headers[`x-ratelimit-limit-${kind}`] = String(tightest.limit);
    headers[`x-ratelimit-remaining-${kind}`] = String(tightest.remaining);
    headers[`x-ratelimit-reset-${kind}`] = formatResetDuration(tightest.resetMs);
  }
  return headers;
}
