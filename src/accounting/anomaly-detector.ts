// Cost-anomaly detection: compares today's spend rate with the trailing 7-day average (from the ledger) and raises an
// alert, once a day, when it is above the configured ratio.
import { periodId, periodStart } from '../limits/budget-period.js';
import type { AlertCenter } from './alert-center.js';
import type { SpendLedger } from './spend-ledger.js';

export interface AnomalyOptions {
  ratio: number;
  minSpendUsd: number;
  timeZone: string;
  clock?: () => number;
}

export interface AnomalyReading {
  todayUsd: number;
  todayRatePerHour: number;
  trailingRatePerHour: number;
  anomalous: boolean;
}

const hour = 3_600_000;

export class AnomalyDetector {
  private readonly clock: () => number;

  constructor(
    private readonly ledger: SpendLedger,
    private readonly alerts: AlertCenter,
    private readonly options: AnomalyOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  async check(): Promise<AnomalyReading> {
    const now = this.clock();
    const todayStart = periodStart('day', now, this.options.timeZone);
    const [today, trailing] = await Promise.all([this.ledger.total({ from: todayStart, to: now + 1 }), this.ledger.total({ from: todayStart - 7 * 24 * hour, to: todayStart })]);
    // At least an hour of today, so the first minutes after midnight do not look like a spike.
    const todayRatePerHour = today.costUsd / Math.max(1, (now - todayStart) / hour);
    const trailingRatePerHour = trailing.costUsd / (7 * 24);
    const anomalous = today.costUsd >= this.options.minSpendUsd && trailingRatePerHour > 0 && todayRatePerHour > this.options.ratio * trailingRatePerHour;
    if (anomalous) {
      const day = periodId('day', now, this.options.timeZone);
      await this.alerts.raise(
        {
          kind: 'anomaly',
          scope: 'global',
          subject: 'all',
          period: day,
          threshold: this.options.ratio,
          message: `spend anomaly: $${todayRatePerHour.toFixed(2)}/h today vs $${trailingRatePerHour.toFixed(2)}/h on average over the last 7 days (alert above ${this.options.ratio}×)`,
        },
        `anomaly:${day}`,
        { today_usd: today.costUsd, today_rate_per_hour: todayRatePerHour, trailing_rate_per_hour: trailingRatePerHour },
      );
    }
    return { todayUsd: today.costUsd, todayRatePerHour, trailingRatePerHour, anomalous };
  }
}
