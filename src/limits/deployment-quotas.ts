// Per-deployment quotas (rpm / tpm of a provider model entry or route candidate) on the gateway's rate limiter, so
// every replica draws on one quota per upstream deployment (Redis) with the same fail-open/closed rule as other limits.
import { consumedTokens, withConsumption } from '../accounting/consumption.js';
import type { PriceSource } from '../accounting/prices.js';
import { estimateChat, estimateEmbeddings, type RequestEstimate } from '../accounting/request-estimate.js';
import type { PipelineContext } from '../pipeline/context.js';
import type { DeploymentQuota, QuotaDecision, QuotaDemand, QuotaTicket } from '../routing/deployment-quota.js';
import type { Candidate } from '../routing/model-table.js';
import { deploymentQuotaSkipped, type DeploymentQuotaSkippedEvent } from './limit-events.js';
import type { AcquireOutcome, BucketSpec, RateLimiter } from './rate-limiter.js';
import { subjectKey } from './subject-key.js';

interface QuotaBucket extends BucketSpec {
  kind: 'requests' | 'tokens';
}

export class DeploymentQuotas implements DeploymentQuota {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly prices: PriceSource,
    private readonly defaultMaxTokens: number,
    private readonly gatewayId: number,
    private readonly onSettleError: (error: unknown) => void,
  ) {}

  async take(candidate: Candidate, context: PipelineContext, demand: QuotaDemand): Promise<QuotaDecision> {
    const base = `rl:deployment:${subjectKey(candidate.provider.name)}:${subjectKey(candidate.upstreamModel)}`;
    const buckets: QuotaBucket[] = [];
    let estimate: RequestEstimate | undefined;
    if (candidate.rpm) buckets.push({ kind: 'requests', key: `${base}:requests`, ratePerMinute: candidate.rpm, capacity: candidate.rpm, amount: 1 });
    if (candidate.tpm) {
      estimate = this.estimate(context, demand);
      buckets.push({ kind: 'tokens', key: `${base}:tokens`, ratePerMinute: candidate.tpm, capacity: candidate.tpm, amount: estimate.tokens });
    }
    const outcome = await this.limiter.acquire({ buckets });
    if (!outcome.allowed) {
      const blocked = buckets.find((bucket, index) => (outcome.buckets[index]?.remaining ?? 0) < bucket.amount) ?? buckets[0];
      const kind = blocked?.kind ?? 'requests';
      const deployment = `${candidate.provider.name}/${candidate.upstreamModel}`;
      if (deploymentQuotaSkipped.hasSubscribers) {
        const event: DeploymentQuotaSkippedEvent = { gatewayId: this.gatewayId, requestId: context.record.requestId, deployment, kind, retryAfterMs: outcome.retryAfterMs };
        deploymentQuotaSkipped.publish(event);
      }
      const what = kind === 'requests' ? `${blocked?.ratePerMinute} requests per minute` : `${blocked?.ratePerMinute} tokens per minute`;
      return { allowed: false, retryAfterMs: outcome.retryAfterMs, reason: `over its quota of ${what} for ${Math.ceil(outcome.retryAfterMs / 1000)} s more` };
    }
    return { allowed: true, ticket: this.ticket(buckets, outcome, context, estimate) };
  }

  private estimate(context: PipelineContext, demand: QuotaDemand): RequestEstimate {
    // The same per-request estimate the rate-limit and budget steps reserved (computed once per request).
    return demand.kind === 'chat' ? estimateChat(context, demand.request, this.prices, this.defaultMaxTokens) : estimateEmbeddings(context, demand.request, this.prices);
  }

  private ticket(buckets: QuotaBucket[], outcome: AcquireOutcome, context: PipelineContext, estimate: RequestEstimate | undefined): QuotaTicket {
    let settled = false;
    const settle = (requestRefund: number, usedTokens: number) => {
      if (settled) return;
      settled = true;
      const refunds = buckets.map((bucket) => (bucket.kind === 'requests' ? requestRefund : bucket.amount - usedTokens));
      if (refunds.every((refund) => refund === 0)) return;
      outcome.settle(refunds).catch(this.onSettleError);
    };
    return {
      cancel: () => settle(1, 0),
      failed: () => settle(0, 0),
      servedChat: async (served) => {
        // Without a token quota there is nothing to reconcile: the stream is not wrapped.
        if (!estimate) return served;
        const reserved = estimate;
        return withConsumption(
          context,
          async () => served,
          (consumption) => {
            const used = consumedTokens(consumption, reserved);
            settle(0, used.prompt + used.completion);
          },
        );
      },
      servedEmbeddings: (result) => settle(0, result.response.usage?.prompt_tokens ?? estimate?.tokens ?? 0),
    };
  }
}
