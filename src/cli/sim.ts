// `breakwater sim`: runs the provider simulator (an OpenAI-compatible upstream with scripted faults) until SIGINT/SIGTERM.
import { InvalidArgumentError, type Command } from 'commander';
import { startSimServer, type SimServer } from '../sim/index.js';

interface SimCommandOptions {
  port: number;
  host: string;
  ttftMs?: number;
  tokenMs?: number;
  fault: string[];
}

function parseWholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

function parsePort(value: string): number {
  const port = parseWholeNumber(value);
  if (port > 65535) throw new InvalidArgumentError('expected a port from 0 to 65535');
  return port;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerSimCommand(program: Command): void {
  program
    .command('sim')
    .description('run the provider simulator: an OpenAI-compatible upstream for tests, demos and benchmarks')
    .option('--port <n>', 'listen port (0 picks a free one)', parsePort, 9000)
    .option('--host <h>', 'listen address', '127.0.0.1')
    .option('--ttft-ms <n>', 'milliseconds before the first token', parseWholeNumber)
    .option('--token-ms <n>', 'milliseconds between streamed tokens', parseWholeNumber)
    .option('--fault <spec>', 'a fault for requests without x-sim-fault, e.g. "status=503;times=2" (repeatable)', collect, [])
    .action(async (options: SimCommandOptions, command: Command) => {
      let sim: SimServer;
      try {
        sim = await startSimServer({
          host: options.host,
          port: options.port,
          latency: { firstTokenMs: options.ttftMs ?? 0, perTokenMs: options.tokenMs ?? 0 },
          faults: options.fault,
        });
      } catch (error) {
        command.error(`breakwater sim: ${error instanceof Error ? error.message : String(error)}`, { exitCode: 2 });
      }
      console.log(`breakwater sim listening on ${sim.url}`);

      const onSignal = (): void => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        // close() destroys open (even hung) connections, so the process exits without waiting on clients.
        sim.close().then(
          () => process.exit(0),
          (error: unknown) => {
            console.error(`breakwater sim: close failed: ${error instanceof Error ? error.message : String(error)}`);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
}
