// Budgets: per-request caps, and spend/token budgets per key, user, team, session or globally, per day or month
// (calendar periods in the configured time zone). Reserve the worst case before the call, settle with the real cost
// after it, so concurrent requests can overshoot by no more than what is in flight; alerts on thresholds crossed.
import { GatewayError } from '../core/errors.js';
import { keyRecordOf } from '../keys/principal-keys.js';
import type { PipelineContext } from '../pipeline/context.js';
import { sessionOf } from '../accounting/request-identity.js';
import type { SpendLedger } from '../accounting/spend-ledger.js';
import { periodId, periodRemainingMs, periodStart, type Period } from './budget-period.js';
import type { BudgetCounter, BudgetStore } from './budget-store.js';
import type { BudgetRule, BudgetsConfig } from './config-schema.js';
import { budgetLeasesExpired } from './budget-events.js';
import { budgetRejected } from './limit-events.js';
import { subjectKey } from './subject-key.js';

type Scope = BudgetRule['scope'];

interface PlannedCounter extends BudgetCounter {
  scope: Scope;
  subject: string;
  period: Period;
  periodId: string;
  unit: 'usd' | 'tokens';
}

/** A budget reached a threshold (fraction of its limit) during its period. */
export interface BudgetCrossing {
  scope: Scope;
  subject: string;
  period: Period;
  periodId: string;
  unit: 'usd' | 'tokens';
  threshold: number;
  spent: number;
  limit: number;
}

export interface Estimate {
  costUsd: number;
  tokens: number;
}

export interface BudgetReservation {
  settle(actual: Estimate): Promise<void>;
}

const noop: BudgetReservation = { settle: async () => undefined };
const microsPerUsd = 1_000_000;
/** The default request deadline (10 min) plus a minute: what `reservationLeaseMs` comes to with default config. */
export const defaultReservationLeaseMs = 660_000;

export class BudgetPolicy {
  constructor(
    private readonly store: BudgetStore,
    private readonly budgets: BudgetsConfig,
    private readonly ledger: SpendLedger | undefined,
    private readonly thresholds: readonly number[],
    private readonly onCrossing: (crossing: BudgetCrossing) => void,
    private readonly gatewayId: number,
    private readonly onSettleError: (error: unknown) => void,
    private readonly clock: () => number = Date.now,
    /** How long an unsettled reservation counts: the longest a request may take plus a margin (a dead replica's lapse). */
    private readonly reservationLeaseMs = defaultReservationLeaseMs,
  ) {}

  async reserve(context: PipelineContext, estimate: Estimate): Promise<BudgetReservation> {
    this.checkRequestCaps(estimate);
    const counters = this.plan(context, estimate);
    if (counters.length === 0) return noop;
    let result = await this.store.reserve(counters, this.reservationLeaseMs);
    if (result.status === 'unseeded') {
      try {
        await Promise.all(result.indexes.map((index) => this.seed(counters[index] as PlannedCounter)));
      } catch (error) {
        throw new GatewayError('BW_ERR_LIMITER_UNAVAILABLE', 'budget state is unavailable (the spend ledger cannot be read); try again shortly', { retryAfterMs: 1_000, cause: error });
      }
      result = await this.store.reserve(counters, this.reservationLeaseMs);
    }
    if (result.expired && budgetLeasesExpired.hasSubscribers) budgetLeasesExpired.publish({ gatewayId: this.gatewayId, reservations: result.expired });
    if (result.status === 'unseeded') throw new GatewayError('BW_ERR_LIMITER_UNAVAILABLE', 'budget counters could not be initialised; try again', { retryAfterMs: 1_000 });
    if (result.status === 'exceeded') {
      const counter = counters[result.index] as PlannedCounter;
      budgetRejected.publish({ gatewayId: this.gatewayId, scope: counter.scope, period: counter.period });
      const full = this.thresholds.filter((threshold) => threshold >= 1);
      // Refusing means the budget is fully committed (spent + in flight): that is the 100 % alert, even if settled spend ends a little below.
      for (const threshold of full) this.onCrossing(this.crossing(counter, threshold, result.spent + result.reserved));
      const left = Math.max(0, counter.limit - result.spent - result.reserved);
      const amount = counter.unit === 'usd' ? `$${(counter.limit / microsPerUsd).toFixed(2)}` : `${counter.limit} tokens`;
      const leftText = counter.unit === 'usd' ? `$${(left / microsPerUsd).toFixed(4)}` : `${left} tokens`;
      return Promise.reject(
        new GatewayError('BW_ERR_BUDGET_EXCEEDED', `The ${counter.period === 'day' ? 'daily' : 'monthly'} ${counter.scope} budget of ${amount} is used up (${leftText} left, not enough for this request)`, {
          publicCode: 'insufficient_quota',
          retryAfterMs: periodRemainingMs(counter.period, this.clock(), this.budgets.timezone),
        }),
      );
    }
    const settleCounters = result.settle;
    return {
      settle: async (actual) => {
        try {
          const amounts = counters.map((counter) => (counter.unit === 'usd' ? Math.round(actual.costUsd * microsPerUsd) : actual.tokens));
          const settled = await settleCounters(amounts);
          settled.forEach((values, index) => {
            const counter = counters[index] as PlannedCounter;
            for (const threshold of this.thresholds) {
              const line = threshold * counter.limit;
              if (values.spentBefore < line && values.spentAfter >= line) this.onCrossing(this.crossing(counter, threshold, values.spentAfter));
            }
          });
        } catch (error) {
          this.onSettleError(error);
        }
      },
    };
  }

  private checkRequestCaps(estimate: Estimate): void {
    const { max_request_cost_usd: maxCost, max_request_tokens: maxTokens } = this.budgets;
    if (maxCost !== undefined && estimate.costUsd > maxCost) {
      throw new GatewayError('BW_ERR_REQUEST_TOO_EXPENSIVE', `This request could cost up to $${estimate.costUsd.toFixed(4)}, above the per-request budget of $${maxCost}; lower max_tokens`, { param: 'max_tokens' });
    }
    if (maxTokens !== undefined && estimate.tokens > maxTokens) {
      throw new GatewayError('BW_ERR_REQUEST_TOO_EXPENSIVE', `This request could use up to ${estimate.tokens} tokens, above the per-request budget of ${maxTokens}; lower max_tokens`, { param: 'max_tokens' });
    }
  }

  private plan(context: PipelineContext, estimate: Estimate): PlannedCounter[] {
    const principal = context.principal;
    const rules: BudgetRule[] = [...this.budgets.rules];
    for (const budget of keyRecordOf(principal)?.budgets ?? []) rules.push({ scope: 'key', period: budget.period, ...(budget.cost_usd ? { cost_usd: budget.cost_usd } : {}), ...(budget.tokens ? { tokens: budget.tokens } : {}) });
    const subjects: Record<Scope, string | undefined> = { key: principal.keyId, user: principal.user, team: principal.team, session: sessionOf(context), global: 'all' };
    const now = this.clock();
    const counters: PlannedCounter[] = [];
    for (const rule of rules) {
      const subject = subjects[rule.scope];
      if (subject === undefined) continue;
      const id = periodId(rule.period, now, this.budgets.timezone);
      const ttlMs = periodRemainingMs(rule.period, now, this.budgets.timezone) + 86_400_000;
      const base = `budget:${rule.scope}:${subjectKey(subject)}:${id}`;
      // Literals, not `{ ...common, unit… }`: see src/core/objects.ts.
      if (rule.cost_usd !== undefined) {
        counters.push({ scope: rule.scope, subject, period: rule.period, periodId: id, ttlMs, unit: 'usd', key: `${base}:usd`, limit: Math.round(rule.cost_usd * microsPerUsd), amount: Math.ceil(estimate.costUsd * microsPerUsd) });
      }
      if (rule.tokens !== undefined) {
        counters.push({ scope: rule.scope, subject, period: rule.period, periodId: id, ttlMs, unit: 'tokens', key: `${base}:tokens`, limit: rule.tokens, amount: estimate.tokens });
      }
    }
    // The store checks at most 8 counters at once (documented): configured rules first, then the key's own.
    return counters.slice(0, 8);
  }

  /** Starts a counter for its period from the ledger, so budgets survive restarts and a Redis flush. */
  private async seed(counter: PlannedCounter): Promise<void> {
    let spent = 0;
    if (this.ledger) {
      const from = periodStart(counter.period, this.clock(), this.budgets.timezone);
      const spend = await this.ledger.spendOf(counter.scope, counter.subject, from);
      spent = counter.unit === 'usd' ? Math.round(spend.costUsd * microsPerUsd) : spend.tokens;
    }
    await this.store.seed(counter.key, spent, counter.ttlMs);
  }

  private crossing(counter: PlannedCounter, threshold: number, spent: number): BudgetCrossing {
    const scale = counter.unit === 'usd' ? microsPerUsd : 1;
    return { scope: counter.scope, subject: counter.subject, period: counter.period, periodId: counter.periodId, unit: counter.unit, threshold, spent: spent / scale, limit: counter.limit / scale };
  }
}
