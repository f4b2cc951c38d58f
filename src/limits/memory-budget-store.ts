// Budget counters in process memory (single gateway; also the fallback when Redis is unreachable in fail-open mode).
import type { Clock } from './memory-limiter.js';
import type { BudgetCounter, BudgetStore, ReserveResult, SettledCounter } from './budget-store.js';

/** Past this many counters (sessions come and go), expired ones are swept. */
const sweepThreshold = 100_000;

interface Lease {
  amount: number;
  expiresAt: number;
}

interface Entry {
  spent: number;
  reserved: number;
  expiresAt: number;
  /** Unsettled reservations by id, in the order they were made (with one lease length, that is expiry order). */
  leases: Map<number, Lease>;
}

export class MemoryBudgetStore implements BudgetStore {
  private readonly counters = new Map<string, Entry>();
  private nextReservation = 1;

  constructor(private readonly clock: Clock = Date.now) {}

  async reserve(counters: BudgetCounter[], leaseMs: number): Promise<ReserveResult> {
    const now = this.clock();
    const entries = counters.map((counter) => this.live(counter.key, now));
    const unseeded = entries.flatMap((entry, index) => (entry ? [] : [index]));
    if (unseeded.length > 0) return { status: 'unseeded', indexes: unseeded };
    let expired = 0;
    for (const entry of entries) expired += dropExpired(entry as Entry, now);
    for (const [index, counter] of counters.entries()) {
      const entry = entries[index] as Entry;
      if (entry.spent + entry.reserved + counter.amount > counter.limit) return { status: 'exceeded', index, spent: entry.spent, reserved: entry.reserved, expired };
    }
    const id = this.nextReservation++;
    for (const [index, counter] of counters.entries()) {
      const entry = entries[index] as Entry;
      entry.reserved += counter.amount;
      if (counter.amount > 0) entry.leases.set(id, { amount: counter.amount, expiresAt: now + leaseMs });
    }
    return {
      status: 'reserved',
      expired,
      settle: async (actuals) =>
        counters.map((counter, index): SettledCounter => {
          const entry = this.counters.get(counter.key) ?? { spent: 0, reserved: 0, expiresAt: this.clock() + counter.ttlMs, leases: new Map<number, Lease>() };
          this.counters.set(counter.key, entry);
          const spentBefore = entry.spent;
          // A lease that expired was already released (or is released now): either way its amount leaves once.
          const lease = entry.leases.get(id);
          if (lease) {
            entry.leases.delete(id);
            entry.reserved = Math.max(0, entry.reserved - lease.amount);
          }
          entry.spent += Math.round(actuals[index] ?? 0);
          return { spentBefore, spentAfter: entry.spent };
        }),
    };
  }

  async seed(key: string, spent: number, ttlMs: number): Promise<void> {
    const now = this.clock();
    if (this.counters.size > sweepThreshold) for (const [existing, entry] of this.counters) if (entry.expiresAt <= now) this.counters.delete(existing);
    if (!this.live(key, now)) this.counters.set(key, { spent, reserved: 0, expiresAt: now + ttlMs, leases: new Map() });
  }

  async read(key: string): Promise<{ spent: number; reserved: number } | undefined> {
    const now = this.clock();
    const entry = this.live(key, now);
    if (!entry) return undefined;
    dropExpired(entry, now);
    return { spent: entry.spent, reserved: entry.reserved };
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

/** Releases the reservations whose lease has run out; stops at the first live one (leases are in expiry order). */
function dropExpired(entry: Entry, now: number): number {
  let dropped = 0;
  for (const [id, lease] of entry.leases) {
    if (lease.expiresAt > now) break;
    entry.leases.delete(id);
    entry.reserved = Math.max(0, entry.reserved - lease.amount);
    dropped++;
  }
  return dropped;
}
