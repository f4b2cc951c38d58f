// `breakwater cache stats|purge`: the cache admin API of a running gateway, from the command line.
import type { Command } from 'commander';

interface ConnectionOptions {
  url: string;
  masterKey?: string;
}

async function call(options: ConnectionOptions, method: 'GET' | 'DELETE', query: URLSearchParams): Promise<void> {
  const key = options.masterKey ?? process.env.BREAKWATER_MASTER_KEY;
  const suffix = query.size > 0 ? `?${query.toString()}` : '';
  const response = await fetch(`${options.url.replace(/\/+$/, '')}/admin/cache${suffix}`, {
    method,
    headers: key ? { authorization: `Bearer ${key}` } : {},
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  process.stdout.write(`${text}\n`);
  if (!response.ok) process.exit(1);
}

export function registerCacheCommand(program: Command): void {
  const cache = program.command('cache').description('inspect or purge the response cache of a running gateway (master key: --master-key or BREAKWATER_MASTER_KEY)');
  const connection = (command: Command) =>
    command.option('--url <url>', 'gateway base URL', process.env.BREAKWATER_URL ?? 'http://127.0.0.1:8080').option('--master-key <key>', 'master key (default: BREAKWATER_MASTER_KEY)');
  connection(cache.command('stats').description('L1 bytes and entries, semantic index size')).action(async (options: ConnectionOptions) => {
    await call(options, 'GET', new URLSearchParams());
  });
  connection(
    cache
      .command('purge')
      .description('delete cached answers by namespace, tenant (team or key id) or entry key (x-breakwater-cache-key), on every replica')
      .option('--namespace <name>')
      .option('--tenant <id>')
      .option('--key <cacheKey>')
      .option('--all', 'everything (when no filter is given)'),
  ).action(async (options: ConnectionOptions & { namespace?: string; tenant?: string; key?: string; all?: boolean }) => {
    const query = new URLSearchParams();
    if (options.namespace) query.set('namespace', options.namespace);
    if (options.tenant) query.set('tenant', options.tenant);
    if (options.key) query.set('key', options.key);
    if (options.all) query.set('all', 'true');
    await call(options, 'DELETE', query);
  });
}
