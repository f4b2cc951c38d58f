// `breakwater spend`: the spend report from the configured ledger, grouped by key, user, team, model, session or provider.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { openLedger } from '../accounting/open-ledger.js';
import { groupings, type Grouping } from '../accounting/spend-ledger.js';
import { periodStart } from '../limits/budget-period.js';

function instant(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const parsed = Date.parse(value);
  if (!Number.isFinite(parsed)) throw new Error(`${flag}: not a date: ${value}`);
  return parsed;
}

export function registerSpendCommand(program: Command): void {
  program
    .command('spend')
    .description('spend report from the ledger (default: today, by key)')
    .option('-c, --config <path>', 'config file')
    .option('--group-by <field>', `one of ${groupings.join(', ')}`, 'key')
    .option('--from <date>', 'start (ISO date or date-time; default: start of today in budgets.timezone)')
    .option('--to <date>', 'end, exclusive (default: now)')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { config?: string; groupBy: string; from?: string; to?: string; json?: boolean }) => {
      if (!groupings.includes(options.groupBy as Grouping)) throw new Error(`--group-by: one of ${groupings.join(', ')}`);
      const { config } = await loadConfig(options.config ? { path: options.config } : {});
      const now = Date.now();
      const range = { from: instant(options.from, periodStart('day', now, config.budgets.timezone), '--from'), to: instant(options.to, now + 1, '--to') };
      const ledger = await openLedger(config);
      try {
        const [rows, total] = await Promise.all([ledger.report(options.groupBy as Grouping, range), ledger.total(range)]);
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ group_by: options.groupBy, from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), data: rows, total }, null, 2)}\n`);
          return;
        }
        const lines = [[options.groupBy, 'requests', 'prompt_tokens', 'completion_tokens', 'cost_usd']];
        for (const row of rows) lines.push([row.group ?? '(none)', String(row.requests), String(row.promptTokens), String(row.completionTokens), row.costUsd.toFixed(6)]);
        lines.push(['TOTAL', String(total.requests), String(total.promptTokens), String(total.completionTokens), total.costUsd.toFixed(6)]);
        const widths = lines[0]?.map((_cell, column) => Math.max(...lines.map((line) => (line[column] ?? '').length))) ?? [];
        process.stdout.write(`${new Date(range.from).toISOString()} → ${new Date(range.to).toISOString()}\n`);
        for (const line of lines) process.stdout.write(`${line.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ')}\n`);
      } finally {
        await ledger.close();
      }
    });
}
