// The request path's steps, in DESIGN.md order, composed once at start-up around the terminal executor.
// Each capability (limits, budgets, idempotency, cache, accounting) adds its step here, outermost first.
import type { Config } from '../config/schema.js';
import type { ChatStep, EmbeddingsStep } from './context.js';

/** Steps the gateway builds from its own resources (providers, stores) and hands in to take their place in the order. */
export interface StepServices {
  /** Idempotency keys (src/reliability/idempotency): after limits and budgets, before the cache. */
  idempotency?: ChatStep | undefined;
  /** The response cache (src/cache): after idempotency, right before the executor. */
  cache?: ChatStep | undefined;
  /** Accounting, key model access, rate limits and budgets (src/accounting, src/limits): outermost, in that order. */
  costControl?: { chatSteps(): ChatStep[]; embeddingsSteps(): EmbeddingsStep[] } | undefined;
}

export function chatSteps(_config: Config, services: StepServices = {}): ChatStep[] {
  return [...(services.costControl?.chatSteps() ?? []), ...(services.idempotency ? [services.idempotency] : []), ...(services.cache ? [services.cache] : [])];
}

export function embeddingsSteps(_config: Config, services: StepServices = {}): EmbeddingsStep[] {
  return [...(services.costControl?.embeddingsSteps() ?? [])];
}
