// Log lines for notable reliability events: each retry and fallback, every breaker state change, and provider
// credential refreshes (Azure Entra ID tokens).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import type { CredentialRefreshEvent } from '../providers/provider-events.js';
import type { AttemptEvent, BreakerEvent } from './events.js';

export class ReliabilityLog {
  private readonly onAttempt = (message: unknown) => {
    const event = message as AttemptEvent;
    if (event.gatewayId !== this.gatewayId || event.role === 'first') return;
    this.logger.info(
      { request_id: event.requestId, provider: event.provider, model: event.model, attempt: event.attempt, outcome: event.outcome, kind: event.kind, duration_ms: Math.round(event.durationMs) },
      event.role === 'retry' ? 'retry' : 'fallback',
    );
  };
  private readonly onBreaker = (message: unknown) => {
    const event = message as BreakerEvent;
    if (event.gatewayId !== this.gatewayId) return;
    const line = { deployment: event.deployment, from: event.from, to: event.to, reason: event.reason };
    if (event.to === 'open') this.logger.warn(line, 'circuit breaker opened');
    else this.logger.info(line, `circuit breaker ${event.to}`);
  };

  private readonly onCredentialRefresh = (message: unknown) => {
    const event = message as CredentialRefreshEvent;
    if (event.outcome === 'failure') this.logger.warn({ provider: event.provider, kind: event.kind, reason: event.reason }, 'provider credential refresh failed');
    else this.logger.info({ provider: event.provider, kind: event.kind, expires_in_s: event.expiresInSeconds }, 'provider credential refreshed');
  };

  constructor(
    private readonly logger: Logger,
    private readonly gatewayId: number,
  ) {
    subscribe('breakwater:upstream:attempt', this.onAttempt);
    subscribe('breakwater:breaker:change', this.onBreaker);
    subscribe('breakwater:providers:credential-refresh', this.onCredentialRefresh);
  }

  close(): void {
    unsubscribe('breakwater:upstream:attempt', this.onAttempt);
    unsubscribe('breakwater:breaker:change', this.onBreaker);
    unsubscribe('breakwater:providers:credential-refresh', this.onCredentialRefresh);
  }
}
