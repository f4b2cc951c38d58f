// Makes deployment-quota skips visible: a counter per deployment and kind (when metrics are on) and one log line each.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { DeploymentQuotaSkippedEvent } from './limit-events.js';

const channelName = 'breakwater:limits:deployment-quota-skipped';

export class DeploymentQuotaObserver {
  private readonly skips: Counter<'deployment' | 'kind'> | undefined;
  private readonly onSkip = (message: unknown) => {
    const event = message as DeploymentQuotaSkippedEvent;
    if (event.gatewayId !== this.gatewayId) return;
    this.skips?.inc({ deployment: event.deployment, kind: event.kind });
    this.logger.info(
      { request_id: event.requestId, deployment: event.deployment, kind: event.kind, retry_after_ms: event.retryAfterMs },
      `deployment skipped: over its ${event.kind === 'requests' ? 'rpm' : 'tpm'} quota`,
    );
  };

  constructor(
    private readonly logger: Logger,
    private readonly gatewayId: number,
    registry: Registry | undefined,
    /** Deployments with a configured quota (`provider/model`): their series start at 0. */
    deployments: readonly string[],
  ) {
    if (registry) {
      this.skips = new Counter({
        name: 'breakwater_deployment_quota_skips_total',
        help: 'Attempts not made because the upstream deployment was over its configured rpm/tpm quota, by deployment and kind (requests, tokens)',
        labelNames: ['deployment', 'kind'],
        registers: [registry],
      });
      for (const deployment of deployments) this.skips.inc({ deployment, kind: 'requests' }, 0);
    }
    subscribe(channelName, this.onSkip);
  }

  close(): void {
    unsubscribe(channelName, this.onSkip);
  }
}
