// `breakwater config check [path]`: validates a config and prints the effective one with secrets masked.
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { ConfigError } from '../config/config-error.js';
import { loadConfig } from '../config/load.js';
import { maskSecrets } from '../config/mask.js';

export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('configuration tools');
  config
    .command('check [path]')
    .description('validate a config file (or the embedded defaults) and print the effective config, secrets masked')
    .action(async (path: string | undefined) => {
      try {
        const loaded = await loadConfig(path ? { path } : {});
        process.stdout.write(`# source: ${loaded.source}\n${stringify(maskSecrets(loaded.config))}`);
        process.stderr.write('config OK\n');
      } catch (error) {
        if (error instanceof ConfigError) {
          process.stderr.write(`config invalid:\n${error.issues.map((issue) => `  ${issue}`).join('\n')}\n`);
          process.exit(2);
        }
        throw error;
      }
    });
}
