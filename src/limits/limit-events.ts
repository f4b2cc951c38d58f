// Diagnostics channels the limits publish on (metrics and logs subscribe; nothing here imports them).
import { channel } from 'node:diagnostics_channel';

export interface LimiterStateEvent {
  gatewayId: number;
  /** The shared limiter is unreachable and the failure mode is in force. */
  degraded: boolean;
  /** This event reports a failed call to the shared limiter. */
  failed: boolean;
  /** The degraded state flipped with this event. */
  changed: boolean;
  mode: 'open' | 'closed';
  error: string | undefined;
}

export interface RateLimitedEvent {
  gatewayId: number;
  /** Which limit refused: `key`, `user`, `tier`, `model` or `concurrency`. */
  scope: string;
  /** `requests`, `tokens` or `concurrency`. */
  kind: string;
}

export interface BudgetRejectedEvent {
  gatewayId: number;
  scope: string;
  period: string;
}

export interface DeploymentQuotaSkippedEvent {
  gatewayId: number;
  requestId: string;
  /** `provider/model`: a configured deployment (bounded). */
  deployment: string;
  /** The quota that refused: `requests` (rpm) or `tokens` (tpm). */
  kind: 'requests' | 'tokens';
  retryAfterMs: number;
}

export const limiterState = channel('breakwater:limits:limiter-state');
export const rateLimited = channel('breakwater:limits:rate-limited');
export const budgetRejected = channel('breakwater:limits:budget-rejected');
export const deploymentQuotaSkipped = channel('breakwater:limits:deployment-quota-skipped');
