// Budget counters in Redis, shared by all replicas: reserve and settle are each one atomic Lua call.
import type { Redis } from 'ioredis';
import { LuaScript } from './lua-script.js';
import { maxCountersPerReservation, type BudgetCounter, type BudgetStore, type ReserveResult, type SettledCounter } from './budget-store.js';

const reserveScript = new LuaScript('reserve-budget-8.lua');
const settleScript = new LuaScript('settle-budget-8.lua');

export class RedisBudgetStore implements BudgetStore {
  constructor(
    private readonly client: Redis,
    private readonly keyPrefix: string,
  ) {}

  async reserve(counters: BudgetCounter[]): Promise<ReserveResult> {
    if (counters.length > maxCountersPerReservation) throw new Error(`at most ${maxCountersPerReservation} budget counters per reservation`);
    const keys = this.keys(counters);
    const args: number[] = [];
    for (let index = 0; index < maxCountersPerReservation; index++) {
      const counter = counters[index];
      args.push(counter ? counter.limit : -1, counter ? counter.amount : 0, counter ? counter.ttlMs : 0);
    }
    const reply = (await reserveScript.run(this.client, keys, args)) as number[];
    if (reply[0] === 2) return { status: 'unseeded', indexes: reply.slice(1).map((slot) => Number(slot) - 1) };
    if (reply[0] === 0) return { status: 'exceeded', index: Number(reply[1]) - 1, spent: Number(reply[2]), reserved: Number(reply[3]) };
    return {
      status: 'reserved',
      settle: async (actuals) => {
        const settleArgs: number[] = [];
        for (let index = 0; index < maxCountersPerReservation; index++) {
          const counter = counters[index];
          settleArgs.push(counter ? counter.amount : -1, counter ? Math.round(actuals[index] ?? 0) : 0);
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

  async read(key: string): Promise<{ spent: number; reserved: number } | undefined> {
    const values = await this.client.hmget(this.keyPrefix + key, 'spent', 'reserved');
    if (values[0] === null) return undefined;
    return { spent: Number(values[0]), reserved: Number(values[1] ?? 0) };
  }

  private keys(counters: BudgetCounter[]): string[] {
    const keys: string[] = [];
    for (let index = 0; index < maxCountersPerReservation; index++) keys.push(this.keyPrefix + (counters[index]?.key ?? 'unused:budget'));
    return keys;
  }
}
