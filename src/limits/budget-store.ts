// The budget-counter contract (memory and Redis): reserve an amount against a limit all-or-nothing, then settle it
// with the real amount. Counters hold `spent` and in-flight `reserved` so concurrent requests cannot overshoot.
// Every reservation is a lease: if nobody settles it before it expires (the replica died mid-request), it stops
// counting by itself instead of blocking the budget until the period ends.

export interface BudgetCounter {
  key: string;
  /** Integer units: micro-USD for cost budgets, tokens for token budgets. */
  limit: number;
  amount: number;
  /** How long the counter must outlive its period's start (it is keyed by period, so it only needs to expire). */
  ttlMs: number;
}

export type ReserveResult = (
  | { status: 'reserved'; settle(actuals: number[]): Promise<SettledCounter[]> }
  | { status: 'exceeded'; index: number; spent: number; reserved: number }
  /** Some counters are not initialised for their period yet: seed them (from the ledger) and reserve again. */
  | { status: 'unseeded'; indexes: number[] }
) & {
  /** Unsettled reservations whose lease ran out, dropped from the counters by this call (for the metric). */
  expired?: number;
};

export interface SettledCounter {
  spentBefore: number;
  spentAfter: number;
}

export interface BudgetStore {
  /**
   * Reserves every counter's amount, or none. The reservation counts for `leaseMs` at most: a settle after that adds
   * the real spend but releases nothing twice.
   */
  reserve(counters: BudgetCounter[], leaseMs: number): Promise<ReserveResult>;
  /** Sets a counter's spent amount unless it already exists (first replica wins). */
  seed(key: string, spent: number, ttlMs: number): Promise<void>;
  /** Current spent and reserved (for reports and tests); reservations past their lease are not counted. */
  read(key: string): Promise<{ spent: number; reserved: number } | undefined>;
}

/** Most counters in one reservation (the Redis script has this many counter slots). */
export const maxCountersPerReservation = 8;
