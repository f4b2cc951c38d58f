// The request path's steps, in DESIGN.md order, composed once at start-up around the terminal executor.
// Each capability (limits, budgets, idempotency, cache, accounting) adds its step here, outermost first.
import type { Config } from '../config/schema.js';
import type { ChatStep, EmbeddingsStep } from './context.js';

export function chatSteps(_config: Config): ChatStep[] {
  return [];
}

export function embeddingsSteps(_config: Config): EmbeddingsStep[] {
  return [];
}
