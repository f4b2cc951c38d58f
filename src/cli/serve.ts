// `breakwater serve`: runs the gateway until SIGTERM/SIGINT, then drains and exits 0 (a second signal exits at once).
import type { Command } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { loadConfig } from '../config/load.js';
import { flushTracing, installTracing } from '../observability/tracing.js';
import { Gateway, StartupError } from '../server/gateway.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve', { isDefault: true })
    .description('run the gateway (embedded defaults when there is no breakwater.yaml)')
    .option('-c, --config <path>', 'config file (default: ./breakwater.yaml if present)')
    .option('--host <host>', 'listen address (overrides HOST and server.host)')
    .option('--port <port>', 'listen port (overrides PORT and server.port)', (value) => Number(value))
    .action(async (options: { config?: string; host?: string; port?: number }) => {
      let gateway: Gateway;
      try {
        const { config, source } = await loadConfig({
          ...(options.config ? { path: options.config } : {}),
          ...(options.host ? { host: options.host } : {}),
          ...(options.port !== undefined ? { port: options.port } : {}),
        });
        gateway = await Gateway.create(config);
        await installTracing({ logger: gateway.logger }); // a no-op unless OTEL_* asks for traces
        gateway.logger.info({ config: source }, 'configuration loaded');
        await gateway.listen();
      } catch (error) {
        if (error instanceof ConfigError || error instanceof StartupError) {
          console.error(`breakwater: ${error.message}`);
          process.exit(2);
        }
        throw error;
      }
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          gateway.logger.warn({ signal }, 'second signal: exiting now');
          gateway.logger.flush();
          process.exit(1);
        }
        gateway.logger.info({ signal }, 'signal received');
        gateway.shutdown().then(flushTracing).then(
          () => {
            gateway.logger.flush();
            process.exit(0);
          },
          (error: unknown) => {
            gateway.logger.error({ err: error }, 'shutdown failed');
            gateway.logger.flush();
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
}
