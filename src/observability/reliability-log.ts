// Log lines for notable reliability events: each retry and fallback, and every breaker state change.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Logger } from 'pino';
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

  constructor(
    private readonly logger: Logger,
    private readonly gatewayId: number,
  ) {
    subscribe('breakwater:upstream:attempt', this.onAttempt);
    subscribe('breakwater:breaker:change', this.onBreaker);
  }

  close(): void {
    unsubscribe('breakwater:upstream:attempt', this.onAttempt);
    unsubscribe('breakwater:breaker:change', this.onBreaker);
  }
}
