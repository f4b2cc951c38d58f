// `breakwater keys create|list|show|revoke`: manages virtual keys directly in the configured store (SQLite or PostgreSQL).
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { publicView, type KeyBudget } from '../keys/key-record.js';
import { openKeyService } from '../keys/open-key-service.js';

interface CreateOptions {
  config?: string;
  name?: string;
  team?: string;
  user?: string;
  tier?: string;
  models?: string;
  rpm?: number;
  tpm?: number;
  concurrency?: number;
  dailyUsd?: number;
  monthlyUsd?: number;
  expires?: string;
}

const positiveInteger = (value: string) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`expected a positive integer, got ${value}`);
  return number;
};
const positiveNumber = (value: string) => {
  const number = Number(value);
  if (!(number > 0)) throw new Error(`expected a positive number, got ${value}`);
  return number;
};

async function withKeys<T>(configPath: string | undefined, work: (keys: Awaited<ReturnType<typeof openKeyService>>['keys']) => Promise<T>): Promise<T> {
  const { config } = await loadConfig(configPath ? { path: configPath } : {});
  const opened = await openKeyService(config);
  try {
    return await work(opened.keys);
  } finally {
    await opened.close();
  }
}

export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('virtual API keys (stored hashed; the secret is shown once, at creation)');

  keys
    .command('create')
    .description('create a key and print its secret (shown this once)')
    .option('-c, --config <path>', 'config file')
    .option('--name <name>')
    .option('--team <team>')
    .option('--user <user>')
    .option('--tier <tier>', 'a limits.tiers name (free, paid…)')
    .option('--models <list>', 'comma-separated models the key may use (default: all)')
    .option('--rpm <n>', 'requests per minute', positiveInteger)
    .option('--tpm <n>', 'tokens per minute', positiveInteger)
    .option('--concurrency <n>', 'requests in flight at once', positiveInteger)
    .option('--daily-usd <amount>', 'daily spend budget', positiveNumber)
    .option('--monthly-usd <amount>', 'monthly spend budget', positiveNumber)
    .option('--expires <date>', 'ISO date-time after which the key stops working')
    .action(async (options: CreateOptions) => {
      const budgets: KeyBudget[] = [];
      if (options.dailyUsd) budgets.push({ period: 'day', cost_usd: options.dailyUsd });
      if (options.monthlyUsd) budgets.push({ period: 'month', cost_usd: options.monthlyUsd });
      const expiresAt = options.expires ? Date.parse(options.expires) : null;
      if (expiresAt !== null && !Number.isFinite(expiresAt)) throw new Error(`--expires: not a date: ${options.expires}`);
      const created = await withKeys(options.config, (service) =>
        service.create({
          name: options.name ?? null,
          team: options.team ?? null,
          user: options.user ?? null,
          tier: options.tier ?? null,
          models: options.models ? options.models.split(',').map((model) => model.trim()).filter(Boolean) : null,
          rpm: options.rpm ?? null,
          tpm: options.tpm ?? null,
          concurrency: options.concurrency ?? null,
          budgets,
          expiresAt,
        }),
      );
      process.stdout.write(`${JSON.stringify({ key: created.secret, ...publicView(created.record) }, null, 2)}\n`);
      process.stderr.write('Store the key now: it is not shown again.\n');
    });

  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option('-c, --config <path>', 'config file')
    .option('--all', 'include revoked keys')
    .action(async (options: { config?: string; all?: boolean }) => {
      const records = await withKeys(options.config, (service) => service.store.list(options.all === true));
      process.stdout.write(`${JSON.stringify(records.map(publicView), null, 2)}\n`);
    });

  keys
    .command('show <id>')
    .option('-c, --config <path>', 'config file')
    .action(async (id: string, options: { config?: string }) => {
      const record = await withKeys(options.config, (service) => service.store.get(id));
      if (!record) {
        process.stderr.write(`no key ${id}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`${JSON.stringify(publicView(record), null, 2)}\n`);
    });

  keys
    .command('revoke <id>')
    .description('revoke a key (running gateways refuse it within their key cache TTL, at once with Redis)')
    .option('-c, --config <path>', 'config file')
    .action(async (id: string, options: { config?: string }) => {
      const revoked = await withKeys(options.config, (service) => service.revoke(id));
      if (!revoked) {
        process.stderr.write(`no live key ${id}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`revoked ${id}\n`);
    });
}
