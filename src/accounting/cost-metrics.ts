// Prometheus metrics for keys, limits, budgets and spend, registered on the gateway's registry and fed by events.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Counter, Gauge, type Registry } from 'prom-client';
import { CounterFamily, type CounterCell } from '../observability/fast-metrics.js';
import type { BudgetLeasesExpiredEvent } from '../limits/budget-events.js';
import type { BudgetRejectedEvent, LimiterStateEvent, RateLimitedEvent } from '../limits/limit-events.js';
import type { AlertDeliveryEvent, AlertEvent, LedgerEvent, SpendRecordedEvent } from './accounting-events.js';

export class CostMetrics {
  private readonly rateLimited: Counter<'scope' | 'kind'>;
  private readonly budgetRejections: Counter<'scope' | 'period'>;
  private readonly budgetLeasesExpired: Counter;
  private readonly limiterFailures: Counter;
  private readonly limiterDegraded: Gauge<'mode'>;
  /** Once per request: a cached series (fast-metrics) rather than a prom-client label lookup. */
  private readonly spend: CounterFamily;
  private readonly spendCells = new Map<string, CounterCell>();
  private readonly alerts: Counter<'kind' | 'scope' | 'threshold'>;
  private readonly deliveries: Counter<'channel' | 'outcome'>;
  private readonly ledgerRecords: Counter<'outcome'>;
  private readonly ledgerSpooling: Gauge;
  private readonly handlers: Array<[string, (message: unknown) => void]>;

  constructor(
    registry: Registry,
    private readonly gatewayId: number,
  ) {
    const registers = [registry];
    this.rateLimited = new Counter({ name: 'breakwater_rate_limited_total', help: 'Requests refused by a gateway rate limit, by scope (key, user, model) and kind (requests, tokens, concurrency)', labelNames: ['scope', 'kind'], registers });
    this.budgetRejections = new Counter({ name: 'breakwater_budget_rejections_total', help: 'Requests refused because a budget is used up, by scope and period', labelNames: ['scope', 'period'], registers });
    this.budgetLeasesExpired = new Counter({ name: 'breakwater_budget_reservations_expired_total', help: 'Budget reservations (per counter) released because their lease ran out unsettled (a replica died mid-request)', registers });
    this.limiterFailures = new Counter({ name: 'breakwater_limiter_backend_failures_total', help: 'Calls to the shared limiter (Redis) that failed or took too long', registers });
    this.limiterDegraded = new Gauge({
      name: 'breakwater_limiter_degraded',
      help: '1 while the shared limiter (Redis) is unreachable: fail-open (the local limiter serves; limits are per replica) or fail-closed (503)',
      labelNames: ['mode'],
      registers,
    });
    this.spend = new CounterFamily({ name: 'breakwater_spend_usd_total', help: 'Cost of served requests in USD, by model and provider', labelNames: ['model', 'provider'], registers });
    this.alerts = new Counter({ name: 'breakwater_alerts_total', help: 'Spend alerts raised (budget thresholds, cost anomalies)', labelNames: ['kind', 'scope', 'threshold'], registers });
    this.deliveries = new Counter({ name: 'breakwater_alert_deliveries_total', help: 'Alert deliveries by channel (log, webhook) and outcome (delivered, retried, dead-lettered)', labelNames: ['channel', 'outcome'], registers });
    this.ledgerRecords = new Counter({ name: 'breakwater_ledger_records_total', help: 'Spend records by outcome: written to the store, retried, spooled locally, replayed', labelNames: ['outcome'], registers });
    this.ledgerSpooling = new Gauge({ name: 'breakwater_ledger_spooling', help: '1 while spend records go to the local spool because the ledger store is unreachable', registers });
    this.handlers = [
      ['breakwater:limits:rate-limited', (message) => this.mine<RateLimitedEvent>(message, (event) => this.rateLimited.inc({ scope: event.scope, kind: event.kind }))],
      ['breakwater:limits:budget-rejected', (message) => this.mine<BudgetRejectedEvent>(message, (event) => this.budgetRejections.inc({ scope: event.scope, period: event.period }))],
      ['breakwater:limits:budget-leases-expired', (message) => this.mine<BudgetLeasesExpiredEvent>(message, (event) => this.budgetLeasesExpired.inc(event.reservations))],
      [
        'breakwater:limits:limiter-state',
        (message) =>
          this.mine<LimiterStateEvent>(message, (event) => {
            if (event.failed) this.limiterFailures.inc();
            this.limiterDegraded.set({ mode: event.mode }, event.degraded ? 1 : 0);
          }),
      ],
      ['breakwater:accounting:spend', (message) => this.mine<SpendRecordedEvent>(message, (event) => (this.spendCell(event.model, event.provider).value += event.costUsd))],
      ['breakwater:accounting:alert', (message) => this.mine<AlertEvent>(message, (event) => this.alerts.inc({ kind: event.kind, scope: event.scope, threshold: String(event.threshold) }))],
      ['breakwater:accounting:alert-delivery', (message) => this.mine<AlertDeliveryEvent>(message, (event) => this.deliveries.inc({ channel: event.channel, outcome: event.outcome }))],
      [
        'breakwater:accounting:ledger',
        (message) =>
          this.mine<LedgerEvent>(message, (event) => {
            this.ledgerRecords.inc({ outcome: event.outcome }, event.records);
            if (event.outcome === 'spooled') this.ledgerSpooling.set(1);
            else if (event.outcome !== 'retried') this.ledgerSpooling.set(0);
          }),
      ],
    ];
    for (const [name, handler] of this.handlers) subscribe(name, handler);
  }

  private spendCell(model: string, provider: string): CounterCell {
    const key = `${model}\u0000${provider}`;
    let cell = this.spendCells.get(key);
    if (!cell) {
      cell = this.spend.cell(model, provider);
      this.spendCells.set(key, cell);
    }
    return cell;
  }

  close(): void {
    for (const [name, handler] of this.handlers) unsubscribe(name, handler);
  }

  private mine<T extends { gatewayId: number }>(message: unknown, apply: (event: T) => void): void {
    const event = message as T;
    if (event.gatewayId === this.gatewayId) apply(event);
  }
}
