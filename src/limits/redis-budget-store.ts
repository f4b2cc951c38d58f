// Budget counters in Redis, shared by all replicas: reserve and settle are each one atomic Lua call. Reservations
// are leases kept per counter in a sorted set (id by expiry) so a replica that dies before settling stops blocking.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LuaScript } from './lua-script.js';
import type { Clock } from './memory-limiter.js';
import { maxCountersPerReservation, type BudgetCounter, type BudgetStore, type ReserveResult, type SettledCounter } from './budget-store.js';

const reserveScript = new LuaScript('reserve-budget-16.lua');
const settleScript = new LuaScript('settle-budget-16.lua');

/** Lease ids are this process's random prefix plus a sequence: unique across replicas without a random draw per call. */
const processPrefix = randomBytes(6).toString('base64url');
const leasesSuffix = ':leases';

export class RedisBudgetStore implements BudgetStore {
  private nextReservation = 1;

  /** `clock` gives the lease times: replicas' clocks only need to agree within a small part of the lease length. */
  constructor(
    private readonly client: Redis,
    private readonly keyPrefix: string,
    private readonly clock: Clock = Date.now,
  ) {}

  async reserve(counters: BudgetCounter[], leaseMs: number): Promise<ReserveResult> {
    if (counters.length > maxCountersPerReservation) throw new Error(`at most ${maxCountersPerReservation} budget counters per reservation`);
    const keys = this.keys(counters);
    const id = `${processPrefix}.${this.nextReservation++}`;
    const args: Array<string | number> = [this.clock(), Math.max(1, Math.round(leaseMs)), id];
    for (let index = 0; index < maxCountersPerReservation; index++) {
      const counter = counters[index];
      args.push(counter ? counter.limit : -1, counter ? counter.amount : 0, counter ? counter.ttlMs : 0);
    }
    const reply = (await reserveScript.run(this.client, keys, args)) as number[];
    const expired = Number(reply[1] ?? 0);
    if (reply[0] === 2) return { status: 'unseeded', indexes: reply.slice(2).map((slot) => Number(slot) - 1) };
    if (reply[0] === 0) return { status: 'exceeded', index: Number(reply[2]) - 1, spent: Number(reply[3]), reserved: Number(reply[4]), expired };
    return {
      status: 'reserved',
      expired,
      settle: async (actuals) => {
        const settleArgs: Array<string | number> = [id];
        for (let index = 0; index < maxCountersPerReservation; index++) {
          const counter = counters[index];
          settleArgs.push(counter ? 1 : -1, counter ? Math.round(actuals[index] ?? 0) : 0);
        }
        const settled = (await settleScript.run(this.client, keys, settleArgs)) as number[];
        return counters.map((_counter, index): SettledCounter => ({ spentBefore: Number(settled[2 * index]), spentAfter: Number(settled[2 * index + 1]) }));
      },
    };
  }

  async seed(key: string, spent: number, ttlMs: number): Promise<void> {
    const fullKey = this.keyPrefix + key;
    await this.client.multi().hsetnx(fullKey, 'spent', Math.round(spent)).hsetnx(fullKey, 'reserved', 0).pexpire(fullKey, ttlMs).exec();
  }

  /** Not on the request path: reads the counter, then subtracts lapsed leases not yet released by a reservation. */
  async read(key: string): Promise<{ spent: number; reserved: number } | undefined> {
    const fullKey = this.keyPrefix + key;
    const [values, lapsed] = await Promise.all([this.client.hmget(fullKey, 'spent', 'reserved'), this.client.zrangebyscore(fullKey + leasesSuffix, '-inf', this.clock())]);
    if (values[0] === null) return undefined;
    let reserved = Number(values[1] ?? 0);
    if (lapsed.length > 0) {
      const amounts = await this.client.hmget(fullKey, ...lapsed.map((id) => `r:${id}`));
      for (const amount of amounts) reserved -= Number(amount ?? 0);
    }
    return { spent: Number(values[0]), reserved: Math.max(0, reserved) };
  }

  private keys(counters: BudgetCounter[]): string[] {
    const keys: string[] = [];
    for (let index = 0; index < maxCountersPerReservation; index++) keys.push(this.keyPrefix + (counters[index]?.key ?? 'unused:budget'));
    for (let index = 0; index < maxCountersPerReservation; index++) keys.push(this.keyPrefix + (counters[index]?.key ?? 'unused:budget') + leasesSuffix);
    return keys;
  }
}
