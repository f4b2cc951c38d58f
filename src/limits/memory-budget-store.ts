// Budget counters in process memory (single gateway; also the fallback when Redis is unreachable in fail-open mode).
import type { Clock } from './memory-limiter.js';
import type { BudgetCounter, BudgetStore, ReserveResult, SettledCounter } from './budget-store.js';

/** Past this many counters (sessions come and go), expired ones are swept. */
const sweepThreshold = 100_000;

interface Entry {
  spent: number;
  reserved: number;
  expiresAt: number;
}

export class MemoryBudgetStore implements BudgetStore {
  private readonly counters = new Map<string, Entry>();

  constructor(private readonly clock: Clock = Date.now) {}

  async reserve(counters: BudgetCounter[]): Promise<ReserveResult> {
    const now = this.clock();
    const entries = counters.map((counter) => this.live(counter.key, now));
    const unseeded = entries.flatMap((entry, index) => (entry ? [] : [index]));
    if (unseeded.length > 0) return { status: 'unseeded', indexes: unseeded };
    for (const [index, counter] of counters.entries()) {
      const entry = entries[index] as Entry;
      if (entry.spent + entry.reserved + counter.amount > counter.limit) return { status: 'exceeded', index, spent: entry.spent, reserved: entry.reserved };
    }
    for (const [index, counter] of counters.entries()) (entries[index] as Entry).reserved += counter.amount;
    return {
      status: 'reserved',
      settle: async (actuals) =>
        counters.map((counter, index): SettledCounter => {
          const entry = this.counters.get(counter.key) ?? { spent: 0, reserved: counter.amount, expiresAt: this.clock() + counter.ttlMs };
          this.counters.set(counter.key, entry);
          const spentBefore = entry.spent;
          entry.reserved = Math.max(0, entry.reserved - counter.amount);
          entry.spent += Math.round(actuals[index] ?? 0);
          return { spentBefore, spentAfter: entry.spent };
        }),
    };
  }

  async seed(key: string, spent: number, ttlMs: number): Promise<void> {
    const now = this.clock();
    if (this.counters.size > sweepThreshold) for (const [existing, entry] of this.counters) if (entry.expiresAt <= now) this.counters.delete(existing);
    if (!this.live(key, now)) this.counters.set(key, { spent, reserved: 0, expiresAt: now + ttlMs });
  }

  async read(key: string): Promise<{ spent: number; reserved: number } | undefined> {
    const entry = this.live(key, this.clock());
    return entry ? { spent: entry.spent, reserved: entry.reserved } : undefined;
  }

  private live(key: string, now: number): Entry | undefined {
    const entry = this.counters.get(key);
    if (entry && entry.expiresAt <= now) {
      this.counters.delete(key);
      return undefined;
    }
    return entry;
  }
}
