// Raises spend alerts (budget thresholds, cost anomalies) once per threshold per period across all replicas, and
// delivers each to the log, the metrics (through an event) and, when configured, a webhook.
import type { Logger } from 'pino';
import type { BudgetCrossing } from '../limits/budget-policy.js';
import { alertDelivery, alertRaised, type AlertEvent } from './accounting-events.js';
import type { AlertClaims } from './alert-claims.js';
import type { WebhookDelivery } from './webhook-delivery.js';

/** Claims outlive their period by this much, so a late duplicate still finds the claim. */
const claimMarginMs = 2 * 86_400_000;

export class AlertCenter {
  constructor(
    private readonly claims: AlertClaims,
    private readonly logger: Logger,
    private readonly webhook: WebhookDelivery | undefined,
    private readonly gatewayId: number,
  ) {}

  budgetCrossed(crossing: BudgetCrossing): void {
    const percent = Math.round(crossing.threshold * 100);
    const amount = (value: number) => (crossing.unit === 'usd' ? `$${value.toFixed(2)}` : `${value} tokens`);
    void this.raise(
      {
        kind: 'budget',
        scope: crossing.scope,
        subject: crossing.subject,
        period: crossing.periodId,
        threshold: crossing.threshold,
        message: `${crossing.scope} ${crossing.subject}: ${percent}% of the ${crossing.period === 'day' ? 'daily' : 'monthly'} budget used (${amount(crossing.spent)} of ${amount(crossing.limit)})`,
      },
      `budget:${crossing.scope}:${crossing.subject}:${crossing.periodId}:${crossing.unit}:${crossing.threshold}`,
      { spent: crossing.spent, limit: crossing.limit, unit: crossing.unit },
    );
  }

  /** Raises an alert unless another replica (or an earlier call) already raised the same one. Resolves true when this call sent it. */
  async raise(alert: Omit<AlertEvent, 'gatewayId'>, claimId: string, details: Record<string, unknown> = {}): Promise<boolean> {
    let won: boolean;
    try {
      won = await this.claims.claim(claimId, claimMarginMs + 31 * 86_400_000);
    } catch (error) {
      this.logger.error({ err: error, alert: claimId }, 'alert claim failed');
      return false;
    }
    if (!won) return false;
    const event: AlertEvent = { gatewayId: this.gatewayId, ...alert };
    alertRaised.publish(event);
    this.logger.warn({ alert: { kind: alert.kind, scope: alert.scope, subject: alert.subject, period: alert.period, threshold: alert.threshold, ...details } }, alert.message);
    alertDelivery.publish({ gatewayId: this.gatewayId, channel: 'log', outcome: 'delivered' });
    this.webhook?.send({ type: `breakwater.${alert.kind}_alert`, ...alert, ...details, at: new Date().toISOString() });
    return true;
  }
}
