// Composes a gateway from a config: providers, model table, metrics, logs, the HTTP app, and graceful shutdown.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { createLogger, RequestLog } from '../observability/logging.js';
import { Metrics } from '../observability/metrics.js';
import { ReliabilityLog } from '../observability/reliability-log.js';
import { ReliabilityMetrics } from '../observability/reliability-metrics.js';
import { createAdapter } from '../providers/registry.js';
import type { ProviderAdapter } from '../providers/types.js';
import { ModelTable } from '../routing/model-table.js';
import { compose } from '../pipeline/context.js';
import { createTerminal } from '../pipeline/chat.js';
import { breakerChange, type BreakerEvent } from '../observability/events.js';
import { systemClock, type Clock } from '../reliability/clock.js';
import { Deployments } from '../reliability/deployments.js';
import { FallbackExecutor } from '../reliability/executor.js';
import { createIdempotency, type Idempotency } from '../reliability/idempotency/index.js';
import { chatSteps, embeddingsSteps } from '../pipeline/steps.js';
import { createGatewayCache, type GatewayCache } from '../cache/index.js';
import { registerCacheAdminRoutes } from './routes/cache-admin.js';
import { CostControl } from '../accounting/cost-control.js';
import { DeploymentQuotaObserver } from '../limits/deployment-quota-observer.js';
import { DeploymentQuotas } from '../limits/deployment-quotas.js';
import { buildApp } from './app.js';
import { registerAdminRoutes } from './routes/admin.js';
import { Lifecycle } from './lifecycle.js';

export interface GatewayOptions {
  logger?: Logger;
  /** Time for the reliability policies (tests inject a fake one). */
  clock?: Clock;
  random?: () => number;
}

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

let nextGatewayId = 1;

export class Gateway {
  readonly app: FastifyInstance;
  readonly lifecycle: Lifecycle;
  readonly metrics: Metrics | undefined;
  readonly models: ModelTable;
  /** The response cache, when `cache.enabled`. */
  readonly cache: GatewayCache | undefined;
  readonly deployments: Deployments;
  /** Virtual keys, rate limits, budgets, spend ledger and alerts. */
  readonly costControl: CostControl;
  private readonly requestLog: RequestLog;
  private readonly reliabilityLog: ReliabilityLog;
  private readonly reliabilityMetrics: ReliabilityMetrics | undefined;
  private readonly quotaObserver: DeploymentQuotaObserver;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly config: Config,
    readonly providers: ReadonlyMap<string, ProviderAdapter>,
    readonly logger: Logger,
    options: GatewayOptions,
    private readonly idempotency: Idempotency | undefined,
  ) {
    const gatewayId = nextGatewayId++;
    const clock = options.clock ?? systemClock;
    this.deployments = new Deployments(config.reliability, clock, (deployment, transition) => {
      const event: BreakerEvent = { gatewayId, deployment, ...transition };
      breakerChange.publish(event);
    });
    this.metrics = config.metrics.enabled ? new Metrics(gatewayId) : undefined;
    this.cache = createGatewayCache(config, { providers, gatewayId, logger, registry: this.metrics?.registry });
    this.costControl = new CostControl(config, { logger, gatewayId, registry: this.metrics?.registry });
    this.requestLog = new RequestLog(logger, gatewayId, { successSampleRate: config.logging.success_sample_rate });
    this.reliabilityLog = new ReliabilityLog(logger, gatewayId);
    this.reliabilityMetrics = this.metrics ? new ReliabilityMetrics(this.metrics.registry, gatewayId) : undefined;
    this.models = new ModelTable(config, providers);
    this.lifecycle = new Lifecycle(providers, config.server.ready_cache_ms, () => this.deployments.states());
    const models = this.models;
    this.reliabilityMetrics?.declare(models.deployments());
    const limitedDeployments = models.limitedDeployments();
    this.quotaObserver = new DeploymentQuotaObserver(logger, gatewayId, this.metrics?.registry, limitedDeployments);
    const quota =
      limitedDeployments.length > 0
        ? new DeploymentQuotas(this.costControl.limiter, this.costControl.prices, config.limits.default_max_tokens, gatewayId, (error) => logger.warn({ err: error }, 'could not settle a deployment quota'))
        : undefined;
    const executor = new FallbackExecutor({ settings: config.reliability, deployments: this.deployments, clock, ...(options.random ? { random: options.random } : {}), ...(quota ? { quota } : {}) });
    const terminal = createTerminal(models, executor);
    const chat = compose(chatSteps(config, { cache: this.cache?.step, costControl: this.costControl, idempotency: idempotency?.step }), terminal.chat);
    const embeddings = compose(embeddingsSteps(config, { costControl: this.costControl }), terminal.embeddings);
    this.app = buildApp({ config, models, chat, embeddings, lifecycle: this.lifecycle, metrics: this.metrics, logger, gatewayId, authenticator: this.costControl.authenticator });
    registerAdminRoutes(this.app, { keys: this.costControl.keys, ledger: this.costControl.ledger, writer: this.costControl.writer, timeZone: config.budgets.timezone });
    if (this.cache) registerCacheAdminRoutes(this.app, this.cache.cache, config);
  }

  static async create(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
    assertSafeToListen(config);
    const logger = options.logger ?? createLogger(config.logging.level);
    const providers = new Map<string, ProviderAdapter>();
    for (const provider of config.providers) providers.set(provider.name, createAdapter(provider));
    const idempotency = await createIdempotency(config, options.clock ?? systemClock);
    const gateway = new Gateway(config, providers, logger, options, idempotency);
    await Promise.all([...providers.values()].map((provider) => provider.start()));
    await gateway.costControl.start();
    gateway.lifecycle.markStarted();
    return gateway;
  }

  /** Starts listening; resolves with the URL (e.g. http://127.0.0.1:8080). */
  async listen(): Promise<string> {
    const { host, port } = this.config.server;
    await this.app.listen({ host, port });
    const address = this.app.server.address();
    const boundPort = typeof address === 'object' && address ? address.port : port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
    if (!this.config.auth.master_key) this.logger.warn({ host }, 'no auth configured (auth.master_key): listening on loopback only');
    this.logger.info({ url, providers: [...this.providers.keys()] }, 'breakwater listening');
    return url;
  }

  /**
   * Graceful shutdown: readiness turns 503 at once, the listener stops accepting connections, in-flight
   * requests and open streams get up to `drainSeconds` to finish, then whatever is left is cut.
   */
  shutdown(drainSeconds = this.config.server.drain_seconds, delaySeconds = this.config.server.shutdown_delay_seconds): Promise<void> {
    this.closing ??= this.drain(drainSeconds, delaySeconds);
    return this.closing;
  }

  private async drain(drainSeconds: number, delaySeconds: number): Promise<void> {
    this.lifecycle.startDraining();
    if (delaySeconds > 0) {
      // Lame duck: still serving, but /ready says 503 so load balancers stop sending new traffic first.
      this.logger.info({ shutdown_delay_seconds: delaySeconds }, 'not ready; still serving until the shutdown delay passes');
      await new Promise((resolve) => setTimeout(resolve, delaySeconds * 1000));
    }
    this.lifecycle.stopAccepting();
    const server = this.app.server;
    this.logger.info({ drain_seconds: drainSeconds }, 'draining');
    // Keep-alive sockets that finish their last response are closed as soon as they go idle.
    const idleSweep = setInterval(() => server.closeIdleConnections(), 250);
    const deadline = setTimeout(() => {
      this.logger.warn('drain period over: closing the remaining connections');
      server.closeAllConnections();
    }, drainSeconds * 1000);
    try {
      await this.app.close();
    } finally {
      clearInterval(idleSweep);
      clearTimeout(deadline);
    }
    await Promise.all([...this.providers.values()].map((provider) => provider.close()));
    await this.idempotency?.store.close();
    await this.costControl.close();
    this.requestLog.close();
    this.reliabilityLog.close();
    this.reliabilityMetrics?.close();
    this.quotaObserver.close();
    await this.cache?.cache.close();
    this.metrics?.close();
    this.logger.info('drained; bye');
  }
}

const loopbackHosts = new Set(['localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return loopbackHosts.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function assertSafeToListen(config: Config): void {
  if (!config.auth.master_key && !isLoopback(config.server.host)) {
    throw new StartupError(
      `refusing to listen on ${config.server.host} with no authentication: set auth.master_key (e.g. master_key: \${BREAKWATER_MASTER_KEY}) or listen on 127.0.0.1`,
    );
  }
}
