// The fallback executor: walks a route's candidates under one deadline, with breakers, Retry-After
// cool-downs, a retry budget and jittered backoff, and fails over until the first byte is delivered.
import { GatewayError, isGatewayError } from '../core/errors.js';
import type { ChatRequest, EmbeddingsRequest } from '../core/types.js';
import type { ReliabilityConfig } from '../config/schema.js';
import { upstreamAttempt, type AttemptEvent } from '../observability/events.js';
import type { ChatOutcome, PipelineContext } from '../pipeline/context.js';
import { reportUpstreamError } from '../pipeline/upstream-errors.js';
import { CallAbortedError } from '../providers/http-client.js';
import type { CallOptions, EmbeddingsResult } from '../providers/types.js';
import { orderCandidates } from '../routing/candidate-order.js';
import type { DeploymentQuota, QuotaDemand, QuotaTicket } from '../routing/deployment-quota.js';
import type { Candidate, Route } from '../routing/model-table.js';
import { fullJitterDelay } from './backoff.js';
import type { BreakerPermit } from './breaker.js';
import type { Clock } from './clock.js';
import { Deadline } from './deadline.js';
import { Deployments, type DeploymentHealth } from './deployments.js';
import { guardStream } from './stream-guard.js';

export interface ExecutorOptions {
  settings: ReliabilityConfig;
  deployments: Deployments;
  clock: Clock;
  random?: () => number;
  /** Per-deployment quotas (rpm / tpm), checked before each attempt at a deployment that has one. */
  quota?: DeploymentQuota;
}

type Attempt<T> = (candidate: Candidate, options: CallOptions) => Promise<T>;

/** What an attempt returned, with its share of the deployment's quota (to reconcile with the real usage). */
interface Served<T> {
  value: T;
  ticket: QuotaTicket | undefined;
}

interface Failure {
  deployment: string;
  message: string;
  rateLimited: boolean;
}

interface Skip {
  deployment: string;
  reason: string;
  /** Milliseconds until it may be tried again, when known. */
  retryInMs?: number;
  rateLimited: boolean;
  /** Skipped because the deployment is over its own configured quota (not worth waiting for: answer 429 now). */
  overQuota?: boolean;
}

const contentPolicyCodes = new Set(['BW_ERR_CONTENT_POLICY', 'content_filter', 'content_policy_violation']);

export class FallbackExecutor {
  private readonly random: () => number;

  constructor(private readonly options: ExecutorOptions) {
    this.random = options.random ?? Math.random;
  }

  async chat(route: Route, request: ChatRequest, context: PipelineContext): Promise<ChatOutcome> {
    const deadline = this.deadlineFor(context);
    try {
      const demand: QuotaDemand = { kind: 'chat', request };
      if (request.stream !== true) {
        const { value: result, ticket } = await this.run(route, context, deadline, demand, (candidate, options) => candidate.provider.chat(request, options));
        const usage = result.completion.usage;
        const finishReason = result.completion.choices[0]?.finish_reason;
        if (finishReason) context.record.finishReason = finishReason;
        if (usage) {
          context.record.promptTokens = usage.prompt_tokens;
          context.record.completionTokens = usage.completion_tokens;
        }
        deadline.clear();
        return ticket ? ticket.servedChat({ kind: 'json', result }) : { kind: 'json', result };
      }
      // Failover is allowed until the first chunk is in hand: the attempt includes waiting for it.
      const { value: started, ticket } = await this.run(route, context, deadline, demand, async (candidate, options) => {
        const stream = await candidate.provider.chatStream(request, options);
        const iterator = stream[Symbol.asyncIterator]();
        try {
          return { iterator, first: await iterator.next(), candidate };
        } catch (error) {
          await iterator.return?.().catch(() => undefined);
          throw error;
        }
      });
      const health = this.options.deployments.get(Deployments.idOf(started.candidate.provider.name, started.candidate.upstreamModel));
      const outcome: ChatOutcome = { kind: 'stream', stream: guardStream(started.first, started.iterator, { request, context, deadline, health }) };
      return ticket ? ticket.servedChat(outcome) : outcome;
    } catch (error) {
      deadline.clear();
      throw error;
    }
  }

  async embeddings(route: Route, request: EmbeddingsRequest, context: PipelineContext): Promise<EmbeddingsResult> {
    const deadline = this.deadlineFor(context);
    try {
      const { value: result, ticket } = await this.run(route, context, deadline, { kind: 'embeddings', request }, (candidate, options) => candidate.provider.embeddings(request, options));
      context.record.promptTokens = result.response.usage?.prompt_tokens;
      ticket?.servedEmbeddings(result);
      return result;
    } finally {
      deadline.clear();
    }
  }

  private deadlineFor(context: PipelineContext): Deadline {
    const { default_ms: defaultMs, max_ms: maxMs } = this.options.settings.deadline;
    const asked = Number(context.clientHeaders['x-breakwater-timeout-ms']);
    const budget = Number.isFinite(asked) && asked > 0 ? Math.min(asked, maxMs) : Math.min(defaultMs, maxMs);
    return new Deadline(budget, context.signal, this.options.clock);
  }

  private async run<T>(route: Route, context: PipelineContext, deadline: Deadline, demand: QuotaDemand, attempt: Attempt<T>): Promise<Served<T>> {
    const { settings, deployments, clock, quota } = this.options;
    const order = orderCandidates(route.candidates, this.random);
    const skips: Skip[] = [];
    const failures: Failure[] = [];
    const tried = new Set<string>();
    let lastError: GatewayError | undefined;
    let lastFailed: DeploymentHealth | undefined;
    let attempts = 0;
    let pass = 0;
    let minimumContext = 0;
    const reasons = () => failures.map((failure) => `${failure.deployment}: ${failure.message}`);
    const finish = (error: GatewayError): never => {
      context.responseHeaders['x-breakwater-attempts'] = String(attempts);
      context.record.attempts = attempts;
      throw error;
    };

    while (attempts < settings.max_attempts) {
      let progressed = false;
      for (const candidate of order) {
        if (attempts >= settings.max_attempts) break;
        if (minimumContext > 0 && (candidate.contextWindow ?? 0) <= minimumContext) continue;
        const id = Deployments.idOf(candidate.provider.name, candidate.upstreamModel);
        const health = deployments.get(id);
        const now = clock.now();
        if (health.coolingUntil > now) {
          skips.push({ deployment: id, reason: `rate-limited by the upstream for ${Math.ceil((health.coolingUntil - now) / 1000)} s more`, retryInMs: health.coolingUntil - now, rateLimited: true });
          continue;
        }
        if (deadline.expired) return finish(deadline.error(reasons()));
        const permit = health.breaker.tryAcquire();
        if (!permit) {
          skips.push({ deployment: id, reason: 'circuit breaker open', retryInMs: health.breaker.retryInMs, rateLimited: false });
          continue;
        }
        let ticket: QuotaTicket | undefined;
        if (quota && (candidate.rpm !== undefined || candidate.tpm !== undefined)) {
          // The deployment's own quota, shared by every route and replica: over it, skip it like an open breaker.
          const decision = await quota.take(candidate, context, demand).catch((error: unknown) => {
            health.breaker.release(permit);
            if (isGatewayError(error)) return finish(error);
            throw error;
          });
          if (!decision.allowed) {
            health.breaker.release(permit);
            skips.push({ deployment: id, reason: decision.reason, retryInMs: decision.retryAfterMs, rateLimited: true, overQuota: true });
            continue;
          }
          ticket = decision.ticket;
        }
        const isRetry = attempts > 0;
        // Every attempt after the first (retry or fallback) spends the budget of the upstream whose failure caused it.
        const budgetHolder = isRetry ? lastFailed : undefined;
        if (budgetHolder && !budgetHolder.budget.tryRetry()) {
          health.breaker.release(permit);
          ticket?.cancel();
          return finish(this.exhausted(route, failures, skips, lastError, 'retry budget exhausted: the upstream is failing for many requests'));
        }
        try {
          if (tried.has(id)) {
            // The same deployment again: back off with full jitter, never past the deadline.
            const wait = fullJitterDelay(settings.backoff, pass, this.random);
            if (wait >= deadline.remainingMs) {
              health.breaker.release(permit);
              ticket?.cancel();
              return finish(deadline.error(reasons()));
            }
            await clock.sleep(wait, deadline.signal);
            if (deadline.clientGone) {
              health.breaker.release(permit);
              ticket?.cancel();
              throw new CallAbortedError();
            }
          }
          if (!isRetry) health.budget.recordRequest();
          attempts++;
          progressed = true;
          const role: AttemptEvent['role'] = !isRetry ? 'first' : tried.has(id) ? 'retry' : 'fallback';
          tried.add(id);
          context.record.provider = candidate.provider.name;
          context.record.upstreamModel = candidate.upstreamModel;
          context.record.model = route.model;
          const started = clock.now();
          try {
            const result = await this.call(candidate, context, deadline, attempt);
            context.record.upstreamMs = (context.record.upstreamMs ?? 0) + (clock.now() - started);
            health.breaker.success(permit);
            this.publishAttempt(context, candidate, attempts, role, 'success', undefined, clock.now() - started);
            context.responseHeaders['x-breakwater-attempts'] = String(attempts);
            context.record.attempts = attempts;
            return { value: result, ticket };
          } catch (error) {
            ticket?.failed();
            context.record.upstreamMs = (context.record.upstreamMs ?? 0) + (clock.now() - started);
            const failure = this.classify(error, deadline, reasons());
            this.settleBreaker(health, permit, failure);
            this.publishAttempt(context, candidate, attempts, role, 'failure', failure.upstreamKind ?? failure.code, clock.now() - started);
            reportUpstreamError(context.record, failure);
            if (failure.code === 'BW_ERR_DEADLINE_EXCEEDED') return finish(failure);
            failures.push({ deployment: id, message: failure.message, rateLimited: failure.upstreamKind === 'rate_limited' });
            lastError = failure;
            lastFailed = health;
            if (failure.retryAfterMs !== undefined && (failure.upstreamKind === 'rate_limited' || failure.upstreamKind === 'unavailable')) {
              health.coolingUntil = clock.now() + failure.retryAfterMs;
            }
            if (failure.publicCode === 'context_length_exceeded') {
              // Only a candidate with a larger context window can help.
              minimumContext = Math.max(minimumContext, candidate.contextWindow ?? 0, 1);
              if (!order.some((other) => (other.contextWindow ?? 0) > minimumContext)) return finish(failure);
              continue;
            }
            if (contentPolicyCodes.has(failure.publicCode ?? '') || contentPolicyCodes.has(failure.code)) {
              if (settings.on_content_policy === 'return') return finish(failure);
              continue;
            }
            // Refused requests (400/404/422) fail the same everywhere; refused credentials are the provider's problem.
            if (!failure.retryable && failure.upstreamKind !== 'auth') return finish(failure);
          }
        } finally {
          budgetHolder?.budget.finish();
        }
      }
      pass++;
      if (!progressed) {
        // Nothing could be tried in this pass. If everything is only cooling down after a 429 and the wait is
        // short (≤ backoff cap) and fits the deadline, wait for it; otherwise answer now — no long hangs.
        const soonest = Math.min(...skips.map((skip) => skip.retryInMs ?? Number.POSITIVE_INFINITY));
        const onlyCooling = skips.length > 0 && skips.every((skip) => skip.rateLimited && !skip.overQuota);
        if (onlyCooling && soonest <= settings.backoff.cap_ms && soonest < deadline.remainingMs) {
          skips.length = 0;
          await clock.sleep(soonest, deadline.signal);
          if (deadline.clientGone) throw new CallAbortedError();
          if (deadline.expired) return finish(deadline.error(reasons()));
          continue;
        }
        break;
      }
    }
    return finish(this.exhausted(route, failures, skips, lastError));
  }

  private async call<T>(candidate: Candidate, context: PipelineContext, deadline: Deadline, attempt: Attempt<T>): Promise<T> {
    let forwardHeaders: Record<string, string> | undefined;
    for (const name of candidate.provider.forwardHeaderNames) {
      const value = context.clientHeaders[name];
      if (typeof value === 'string') (forwardHeaders ??= {})[name] = value;
    }
    return attempt(candidate, {
      signal: deadline.signal,
      requestId: context.record.requestId,
      upstreamModel: candidate.upstreamModel,
      ...(forwardHeaders ? { forwardHeaders } : {}),
    });
  }

  /** Turns what an attempt threw into a GatewayError; a client that left is re-thrown as is. */
  private classify(error: unknown, deadline: Deadline, reasons: string[]): GatewayError {
    if (error instanceof CallAbortedError) {
      if (deadline.clientGone) throw error;
      return deadline.error(reasons);
    }
    if (isGatewayError(error)) return error;
    return new GatewayError('BW_ERR_INTERNAL', 'internal error while calling the upstream', { cause: error });
  }

  private settleBreaker(health: DeploymentHealth, permit: BreakerPermit, failure: GatewayError): void {
    if (failure.upstreamKind === 'auth') return health.breaker.failure(permit, true);
    // A 429 says "busy", not "broken": the Retry-After cool-down handles it, the breaker stays as it is.
    if (failure.upstreamKind === 'rate_limited' || failure.code === 'BW_ERR_DEADLINE_EXCEEDED') return health.breaker.release(permit);
    if (failure.retryable) return health.breaker.failure(permit);
    // The upstream answered sensibly (a 400 for a bad request): it is healthy.
    health.breaker.success(permit);
  }

  private exhausted(route: Route, failures: Failure[], skips: Skip[], lastError: GatewayError | undefined, why?: string): GatewayError {
    const deployments = new Set([...failures.map((failure) => failure.deployment), ...skips.map((skip) => skip.deployment)]);
    // One deployment involved and it failed (its breaker may have opened on that very failure): its own error
    // says the most — a 504 stays a 504, a refused credential stays a 502.
    if (deployments.size === 1 && lastError && !why) return lastError;
    const waits = skips.map((skip) => skip.retryInMs ?? 0).filter((wait) => wait > 0);
    const retryAfterMs = waits.length > 0 ? Math.min(...waits) : (lastError?.retryAfterMs ?? 1_000);
    const reasons = [...failures.map((failure) => `${failure.deployment}: ${failure.message}`), ...skips.map((skip) => `${skip.deployment}: ${skip.reason}`)];
    const allRateLimited = reasons.length > 0 && skips.every((skip) => skip.rateLimited) && failures.every((failure) => failure.rateLimited);
    const message = `no upstream could serve model ${route.model}${why ? ` (${why})` : ''}: ${reasons.join('; ') || 'no candidate available'}`;
    // Every deployment is at its configured quota: our own limit, as for a key's rpm.
    if (failures.length === 0 && skips.length > 0 && skips.every((skip) => skip.overQuota)) return new GatewayError('BW_ERR_RATE_LIMITED', message, { retryAfterMs });
    if (allRateLimited) return new GatewayError('BW_ERR_UPSTREAM_RATE_LIMITED', message, { retryAfterMs });
    return new GatewayError('BW_ERR_NO_HEALTHY_UPSTREAM', message, { retryAfterMs });
  }

  private publishAttempt(context: PipelineContext, candidate: Candidate, attempt: number, role: AttemptEvent['role'], outcome: AttemptEvent['outcome'], kind: string | undefined, durationMs: number): void {
    if (!upstreamAttempt.hasSubscribers) return;
    const event: AttemptEvent = {
      gatewayId: context.record.gatewayId,
      requestId: context.record.requestId,
      provider: candidate.provider.name,
      model: candidate.upstreamModel,
      attempt,
      role,
      outcome,
      durationMs,
      ...(kind === undefined ? {} : { kind }),
    };
    upstreamAttempt.publish(event);
  }
}
