// The `breakwater` command line: serve (default), sim, config check.
import { Command } from 'commander';
import { registerCacheCommand } from './cache.js';
import { registerConfigCommand } from './config-check.js';
import { registerKeysCommand } from './keys.js';
import { registerSpendCommand } from './spend.js';
import { registerServeCommand } from './serve.js';
import { registerSimCommand } from './sim.js';

const program = new Command('breakwater').description('Breakwater: a production runtime for LLM applications').version('0.1.0');
registerServeCommand(program);
registerSimCommand(program);
registerConfigCommand(program);
registerCacheCommand(program);
registerKeysCommand(program);
registerSpendCommand(program);
await program.parseAsync(process.argv);
