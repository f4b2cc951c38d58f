// Which rate limits apply to a request (per key — its tier's or its own overrides —, per user, per model), and the
// admission: one all-or-nothing check before the call, settled with the real token usage after it.
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../core/errors.js';
import { keyRecordOf } from '../keys/principal-keys.js';
import type { PipelineContext } from '../pipeline/context.js';
import type { LimitsConfig, RateConfig } from './config-schema.js';
import { rateLimited } from './limit-events.js';
import { rateLimitHeaders, type HeaderBucket } from './rate-limit-headers.js';
import type { BucketSpec, ConcurrencySpec, RateLimiter } from './rate-limiter.js';
import { subjectKey } from './subject-key.js';

interface PlannedBucket extends BucketSpec {
  scope: 'key' | 'user' | 'model';
  kind: 'requests' | 'tokens';
  subject: string;
}

export interface Admission {
  /** Gives back the part of the token reservation the request did not use (or takes the excess) and frees its concurrency slot. */
  settle(actualTokens: number): Promise<void>;
}

const noop: Admission = { settle: async () => undefined };

/** The request's token estimate, read only when a token limit applies (counting tokens loads the tokenizer). */
export interface TokenEstimate {
  readonly tokens: number;
}

export class RateLimitPolicy {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly limits: LimitsConfig,
    private readonly gatewayId: number,
    private readonly onSettleError: (error: unknown) => void,
  ) {}

  /** Checks and takes every applicable limit; throws BW_ERR_RATE_LIMITED (429 with Retry-After) when one is exhausted. */
  async admit(context: PipelineContext, model: string, estimate: TokenEstimate): Promise<Admission> {
    const { buckets, concurrency } = this.plan(context, model, estimate);
    if (buckets.length === 0 && !concurrency) return noop;
    const outcome = await this.limiter.acquire({ buckets, ...(concurrency ? { concurrency } : {}) });
    const headerBuckets: HeaderBucket[] = buckets.map((bucket, index) => ({
      kind: bucket.kind,
      limit: bucket.ratePerMinute,
      remaining: outcome.buckets[index]?.remaining ?? 0,
      resetMs: outcome.buckets[index]?.resetMs ?? 0,
    }));
    Object.assign(context.responseHeaders, rateLimitHeaders(headerBuckets));
    if (!outcome.allowed) throw this.refusal(buckets, outcome.buckets.map((state) => state.remaining), outcome.concurrencyExceeded, outcome.retryAfterMs, estimate);
    return {
      settle: async (actualTokens) => {
        const refunds = buckets.map((bucket) => (bucket.kind === 'tokens' ? estimate.tokens - actualTokens : 0));
        await outcome.settle(refunds).catch(this.onSettleError);
      },
    };
  }

  private plan(context: PipelineContext, model: string, estimate: TokenEstimate): { buckets: PlannedBucket[]; concurrency: ConcurrencySpec | undefined } {
    const principal = context.principal;
    const record = keyRecordOf(principal);
    const tierRate = principal.tier ? this.limits.tiers[principal.tier] : undefined;
    const keyRate: RateConfig = {
      ...this.limits.key,
      ...tierRate,
      ...(record?.rpm != null ? { rpm: record.rpm, burst_requests: record.rpm } : {}),
      ...(record?.tpm != null ? { tpm: record.tpm, burst_tokens: record.tpm } : {}),
      ...(record?.concurrency != null ? { concurrency: record.concurrency } : {}),
    };
    const buckets: PlannedBucket[] = [];
    this.addBuckets(buckets, 'key', principal.keyId, keyRate, estimate);
    if (principal.user && this.limits.user) this.addBuckets(buckets, 'user', principal.user, this.limits.user, estimate);
    const modelRate = this.limits.models[model];
    if (modelRate) this.addBuckets(buckets, 'model', model, modelRate, estimate);
    const concurrency = keyRate.concurrency
      ? { key: `rl:key:${subjectKey(principal.keyId)}:concurrency`, max: keyRate.concurrency, leaseId: randomUUID(), leaseMs: this.limits.concurrency_lease_ms }
      : undefined;
    return { buckets, concurrency };
  }

  private addBuckets(buckets: PlannedBucket[], scope: PlannedBucket['scope'], subject: string, rate: RateConfig, estimate: TokenEstimate): void {
    const base = `rl:${scope}:${subjectKey(subject)}`;
    if (rate.rpm) buckets.push({ scope, kind: 'requests', subject, key: `${base}:requests`, ratePerMinute: rate.rpm, capacity: rate.burst_requests ?? rate.rpm, amount: 1 });
    if (rate.tpm) buckets.push({ scope, kind: 'tokens', subject, key: `${base}:tokens`, ratePerMinute: rate.tpm, capacity: rate.burst_tokens ?? rate.tpm, amount: estimate.tokens });
  }

  private refusal(buckets: PlannedBucket[], remaining: number[], concurrencyExceeded: boolean, retryAfterMs: number, estimate: TokenEstimate): GatewayError {
    if (concurrencyExceeded) {
      rateLimited.publish({ gatewayId: this.gatewayId, scope: 'key', kind: 'concurrency' });
      return new GatewayError('BW_ERR_RATE_LIMITED', 'Too many concurrent requests for this key; retry when one finishes', { retryAfterMs });
    }
    const blocked = buckets.find((bucket, index) => (remaining[index] ?? 0) < bucket.amount) ?? buckets[0];
    const scope = blocked?.scope ?? 'key';
    const kind = blocked?.kind ?? 'requests';
    rateLimited.publish({ gatewayId: this.gatewayId, scope, kind });
    const what = kind === 'requests' ? `${blocked?.ratePerMinute} requests per minute` : `${blocked?.ratePerMinute} tokens per minute (this request reserves ~${estimate.tokens})`;
    const subject = scope === 'user' ? 'this user' : scope === 'model' ? `model ${blocked?.subject}` : 'this key';
    return new GatewayError('BW_ERR_RATE_LIMITED', `Rate limit reached for ${subject}: ${what}. Retry after ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
  }
}
