// The shared (Redis) budget counters behind the failure-mode guard, with in-process counters for fail-open mode.
import type { BudgetCounter, BudgetStore, ReserveResult } from './budget-store.js';
import { MemoryBudgetStore } from './memory-budget-store.js';
import type { Clock } from './memory-limiter.js';
import type { SharedBackendGuard } from './shared-backend-guard.js';

export class FailoverBudgetStore implements BudgetStore {
  private readonly local: MemoryBudgetStore;

  constructor(
    private readonly shared: BudgetStore,
    private readonly guard: SharedBackendGuard,
    clock: Clock = Date.now,
  ) {
    this.local = new MemoryBudgetStore(clock);
  }

  reserve(counters: BudgetCounter[], leaseMs: number): Promise<ReserveResult> {
    return this.guard.run(
      () => this.shared.reserve(counters, leaseMs),
      () => this.local.reserve(counters, leaseMs),
    );
  }

  seed(key: string, spent: number, ttlMs: number): Promise<void> {
    return this.guard.run(
      () => this.shared.seed(key, spent, ttlMs),
      () => this.local.seed(key, spent, ttlMs),
    );
  }

  read(key: string): Promise<{ spent: number; reserved: number } | undefined> {
    return this.guard.run(
      () => this.shared.read(key),
      () => this.local.read(key),
    );
  }
}
