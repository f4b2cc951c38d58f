// Health state per upstream deployment (provider instance + upstream model): its breaker, its retry
// budget and its Retry-After cool-down. Shared by every request to that deployment.
import { CircuitBreaker, type BreakerSettings, type BreakerState, type BreakerTransition } from './breaker.js';
import type { Clock } from './clock.js';
import { RetryBudget, type RetryBudgetSettings } from './retry-budget.js';

export interface DeploymentHealth {
  readonly id: string;
  readonly breaker: CircuitBreaker;
  readonly budget: RetryBudget;
  /** Epoch ms before which the upstream asked not to be called again (Retry-After). */
  coolingUntil: number;
}

export interface DeploymentSettings {
  breaker: BreakerSettings;
  retry_budget: RetryBudgetSettings;
}

export class Deployments {
  private readonly byId = new Map<string, DeploymentHealth>();

  constructor(
    private readonly settings: DeploymentSettings,
    private readonly clock: Clock,
    private readonly onBreakerTransition: (deployment: string, transition: BreakerTransition) => void = () => undefined,
  ) {}

  static idOf(provider: string, model: string): string {
    return `${provider}/${model}`;
  }

  get(id: string): DeploymentHealth {
    let health = this.byId.get(id);
    if (!health) {
      health = {
        id,
        breaker: new CircuitBreaker(this.settings.breaker, this.clock, (transition) => this.onBreakerTransition(id, transition)),
        budget: new RetryBudget(this.settings.retry_budget, this.clock),
        coolingUntil: 0,
      };
      this.byId.set(id, health);
    }
    return health;
  }

  /** Breaker state of every deployment seen so far (for /ready details and metrics). */
  states(): Record<string, BreakerState> {
    const states: Record<string, BreakerState> = {};
    for (const [id, health] of this.byId) states[id] = health.breaker.current;
    return states;
  }
}
