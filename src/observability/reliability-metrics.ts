// Reliability metrics (attempts by role and outcome, breaker state per deployment), fed by the executor's events.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CredentialRefreshEvent } from '../providers/provider-events.js';
import type { AttemptEvent, BreakerEvent } from './events.js';
import { CounterFamily, type CounterCell } from './fast-metrics.js';

const breakerValue: Record<string, number> = { closed: 0, 'half-open': 1, open: 2 };
/** Pass-through models are named by clients: past this many distinct names, new ones are counted as `other`. */
const maxModelLabels = 200;

export class ReliabilityMetrics {
  private readonly attempts: CounterFamily;
  /** Attempt series by provider, model, role and outcome, kept once looked up. */
  private readonly attemptCells = new Map<string, CounterCell>();
  private readonly breakerState: Gauge<'deployment'>;
  private readonly credentialRefreshes: Counter<'provider' | 'kind' | 'outcome'>;
  private readonly models = new Set<string>();
  private readonly onCredentialRefresh = (message: unknown) => {
    const event = message as CredentialRefreshEvent;
    this.credentialRefreshes.inc({ provider: event.provider, kind: event.kind, outcome: event.outcome });
  };
  private readonly onAttempt = (message: unknown) => {
    const event = message as AttemptEvent;
    if (event.gatewayId !== this.gatewayId) return;
    const key = `${event.provider}\u0000${event.model}\u0000${event.role}\u0000${event.outcome}`;
    let cell = this.attemptCells.get(key);
    if (!cell) {
      cell = this.attempts.cell(event.provider, this.modelLabel(event.model), event.role, event.outcome);
      // Past the model-label bound, names counted as `other` are not remembered one by one.
      if (this.attemptCells.size < maxModelLabels * 16) this.attemptCells.set(key, cell);
    }
    cell.value++;
  };
  private readonly onBreaker = (message: unknown) => {
    const event = message as BreakerEvent;
    if (event.gatewayId !== this.gatewayId) return;
    this.breakerState.set({ deployment: event.deployment }, breakerValue[event.to] ?? 0);
  };

  constructor(
    registry: Registry,
    private readonly gatewayId: number,
  ) {
    const registers = [registry];
    this.attempts = new CounterFamily({
      name: 'breakwater_upstream_attempts_total',
      help: 'Upstream attempts by role (first, retry of the same deployment, fallback to another) and outcome',
      labelNames: ['provider', 'model', 'role', 'outcome'],
      registers,
    });
    this.breakerState = new Gauge({ name: 'breakwater_breaker_state', help: 'Circuit breaker per upstream deployment: 0 closed, 1 half-open, 2 open', labelNames: ['deployment'], registers });
    this.credentialRefreshes = new Counter({
      name: 'breakwater_provider_credential_refreshes_total',
      help: 'Provider credential fetches (Azure Entra ID client-credential tokens) by provider, kind and outcome',
      labelNames: ['provider', 'kind', 'outcome'],
      registers,
    });
    subscribe('breakwater:upstream:attempt', this.onAttempt);
    subscribe('breakwater:providers:credential-refresh', this.onCredentialRefresh);
    subscribe('breakwater:breaker:change', this.onBreaker);
  }

  /** Starts every known deployment at "closed" so dashboards show them before their first transition. */
  declare(deployments: Iterable<string>): void {
    for (const deployment of deployments) this.breakerState.set({ deployment }, 0);
  }

  private modelLabel(model: string): string {
    if (this.models.has(model)) return model;
    if (this.models.size >= maxModelLabels) return 'other';
    this.models.add(model);
    return model;
  }

  close(): void {
    unsubscribe('breakwater:upstream:attempt', this.onAttempt);
    unsubscribe('breakwater:breaker:change', this.onBreaker);
    unsubscribe('breakwater:providers:credential-refresh', this.onCredentialRefresh);
  }
}
