// Builds keys, limits, budgets, cost accounting and alerts from the config, and hands the gateway what it plugs in:
// the authenticator, the pipeline steps (outermost first), the admin API's services, and start/close.
import { dirname, join } from 'node:path';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { catalogueFor } from '../catalogue/catalogue.js';
import { ConfigError } from '../config/config-error.js';
import type { Config } from '../config/schema.js';
import { Authenticator } from '../keys/authenticator.js';
import type { KeyStore } from '../keys/key-record.js';
import { KeyService } from '../keys/key-service.js';
import { modelAccessChatStep, modelAccessEmbeddingsStep } from '../keys/model-access-step.js';
import { PostgresKeyStore } from '../keys/postgres-key-store.js';
import { RedisRevocationBus } from '../keys/revocation-bus.js';
import { SqliteKeyStore } from '../keys/sqlite-key-store.js';
import { assertTimeZone } from '../limits/budget-period.js';
import { BudgetPolicy } from '../limits/budget-policy.js';
import type { BudgetStore } from '../limits/budget-store.js';
import { FailoverBudgetStore } from '../limits/failover-budget-store.js';
import { FailoverLimiter } from '../limits/failover-limiter.js';
import { budgetChatStep, budgetEmbeddingsStep, rateLimitChatStep, rateLimitEmbeddingsStep } from '../limits/limit-steps.js';
import { MemoryBudgetStore } from '../limits/memory-budget-store.js';
import { MemoryLimiter } from '../limits/memory-limiter.js';
import { RateLimitPolicy } from '../limits/rate-limit-policy.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import { RedisBudgetStore } from '../limits/redis-budget-store.js';
import { RedisLimiter } from '../limits/redis-limiter.js';
import { SharedBackendGuard } from '../limits/shared-backend-guard.js';
import type { ChatStep, EmbeddingsStep } from '../pipeline/context.js';
import { routePrices } from '../routing/route-prices.js';
import { createPostgresPool } from '../store/postgres.js';
import { createRedis } from '../store/redis.js';
import { openSqlite, releaseSqlite, type SqliteDatabase } from '../store/sqlite.js';
import { Accounting } from './accounting-step.js';
import { AlertCenter } from './alert-center.js';
import { FallbackAlertClaims, PostgresAlertClaims, RedisAlertClaims, SqliteAlertClaims, type AlertClaims } from './alert-claims.js';
import { AnomalyDetector } from './anomaly-detector.js';
import { CostMetrics } from './cost-metrics.js';
import { LedgerWriter } from './ledger-writer.js';
import { PostgresLedger } from './postgres-ledger.js';
import { cataloguePrices, PriceTable } from './prices.js';
import type { SpendLedger } from './spend-ledger.js';
import { SpoolFile } from './spool-file.js';
import { SqliteLedger } from './sqlite-ledger.js';
import { ThreadedSqliteLedger } from './sqlite-ledger-thread.js';
import { WebhookDelivery } from './webhook-delivery.js';

export interface CostControlOptions {
  logger: Logger;
  gatewayId: number;
  /** The gateway's metrics registry, when metrics are on. */
  registry?: Registry | undefined;
  clock?: () => number;
}

export class CostControl {
  readonly authenticator: Authenticator | undefined;
  readonly keys: KeyService | undefined;
  readonly ledger: SpendLedger | undefined;
  readonly writer: LedgerWriter | undefined;
  readonly prices: PriceTable;
  readonly guard: SharedBackendGuard;
  readonly alerts: AlertCenter;
  /** The rate limiter (shared through Redis when configured); the executor's deployment quotas use it too. */
  readonly limiter: RateLimiter;
  private readonly accounting: Accounting;
  private readonly budgetStore: BudgetStore;
  private readonly rateLimits: RateLimitPolicy;
  private readonly budgets: BudgetPolicy;
  private readonly metrics: CostMetrics | undefined;
  private readonly webhook: WebhookDelivery | undefined;
  private readonly anomaly: AnomalyDetector | undefined;
  private readonly redis: Redis | undefined;
  private readonly subscriber: Redis | undefined;
  private readonly postgres: pg.Pool | undefined;
  private sqlite: SqliteDatabase | undefined;
  private anomalyTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: Config,
    private readonly options: CostControlOptions,
  ) {
    const { logger, gatewayId } = options;
    const clock = options.clock ?? Date.now;
    assertTimeZone(config.budgets.timezone);
    const redisSettings = config.stores.redis;
    const postgresSettings = config.stores.postgres;
    const useRedis = config.limits.backend === 'redis' || (config.limits.backend === 'auto' && redisSettings !== undefined);
    if (useRedis && !redisSettings) throw new ConfigError('limits.backend', 'redis needs stores.redis');
    const usePostgres = (choice: 'auto' | 'sqlite' | 'postgres', field: string) => {
      if (choice === 'postgres' && !postgresSettings) throw new ConfigError(field, 'postgres needs stores.postgres');
      return choice === 'postgres' || (choice === 'auto' && postgresSettings !== undefined);
    };
    const keysOnPostgres = usePostgres(config.keys.store, 'keys.store');
    const ledgerOnPostgres = usePostgres(config.accounting.ledger.store, 'accounting.ledger.store');
    const virtualKeys = config.auth.master_key !== undefined;

    if (redisSettings && useRedis) {
      // The guard decides within limits.decide_within_ms; the client's own timeout only has to end commands nobody waits for.
      this.redis = createRedis({ ...redisSettings, command_timeout_ms: Math.max(redisSettings.command_timeout_ms, config.limits.decide_within_ms * 4) }, 'limits');
      if (virtualKeys) this.subscriber = createRedis(redisSettings, 'key-revocations');
    }
    if (postgresSettings && (keysOnPostgres || ledgerOnPostgres)) this.postgres = createPostgresPool(postgresSettings);
    const sqlite = () => (this.sqlite ??= openSqlite(config.stores.sqlite.path));
    const stateDirectory = dirname(config.stores.sqlite.path === ':memory:' ? join('.breakwater', 'x') : config.stores.sqlite.path);

    if (virtualKeys) {
      const store: KeyStore = keysOnPostgres && this.postgres ? new PostgresKeyStore(this.postgres, false) : new LazySqliteKeyStore(sqlite);
      const bus = this.redis && this.subscriber ? new RedisRevocationBus(this.redis, this.subscriber, redisSettings?.key_prefix ?? 'bw:') : undefined;
      this.keys = new KeyService(store, bus, { cacheTtlMs: config.keys.cache_ttl_ms, clock });
      this.authenticator = new Authenticator(config.auth.master_key as string, this.keys);
    }

    if (config.accounting.ledger.enabled) {
      const ledgerSettings = config.accounting.ledger;
      const sqlitePath = config.stores.sqlite.path;
      // SQLite ledger statements run in a worker thread (started on first use), off the event loop; `:memory:` cannot be shared with one.
      this.ledger =
        ledgerOnPostgres && this.postgres
          ? new PostgresLedger(this.postgres, false)
          : sqlitePath === ':memory:'
            ? new LazySqliteLedger(sqlite)
            : new ThreadedSqliteLedger(sqlitePath, { onError: (message, error) => logger.error({ err: error }, message) });
      this.writer = new LedgerWriter(this.ledger, new SpoolFile(ledgerSettings.spool_path ?? join(stateDirectory, 'spend-spool.jsonl')), {
        batchSize: ledgerSettings.batch_size,
        flushIntervalMs: ledgerSettings.flush_interval_ms,
        retryAttempts: ledgerSettings.retry_attempts,
        retryBaseMs: ledgerSettings.retry_base_ms,
        replayIntervalMs: ledgerSettings.replay_interval_ms,
        maxQueue: ledgerSettings.max_queue,
        gatewayId,
        onError: (message, error) => logger.error({ err: error }, message),
      });
    }

    const upstreamPrices = new PriceTable(config.accounting.prices, [cataloguePrices(catalogueFor(config))]);
    // A public name with no price of its own (an alias, a route) costs what its dearest deployment costs.
    this.prices = new PriceTable({}, [upstreamPrices, routePrices(config, upstreamPrices)]);
    this.guard = new SharedBackendGuard({
      mode: config.limits.on_redis_failure,
      decideWithinMs: config.limits.decide_within_ms,
      probeIntervalMs: config.limits.probe_interval_ms,
      gatewayId,
      clock,
      onChange: (degraded, error) => {
        if (degraded) logger.error({ err: error, mode: config.limits.on_redis_failure }, `shared limiter (Redis) unreachable: ${config.limits.on_redis_failure === 'open' ? 'limiting per replica until it is back' : 'refusing requests (fail-closed)'}`);
        else logger.info('shared limiter (Redis) reachable again');
      },
    });
    const prefix = redisSettings?.key_prefix ?? 'bw:';
    this.limiter = this.redis ? new FailoverLimiter(new RedisLimiter(this.redis, prefix, clock), this.guard, clock) : new MemoryLimiter(clock);
    this.budgetStore = this.redis ? new FailoverBudgetStore(new RedisBudgetStore(this.redis, prefix, clock), this.guard, clock) : new MemoryBudgetStore(clock);

    const sharedClaims: AlertClaims = this.redis ? new RedisAlertClaims(this.redis, prefix) : this.postgres ? new PostgresAlertClaims(this.postgres) : new LazySqliteClaims(sqlite);
    const webhook = config.alerts.webhook;
    if (webhook) {
      this.webhook = new WebhookDelivery({
        url: webhook.url,
        ...(webhook.headers ? { headers: webhook.headers } : {}),
        timeoutMs: webhook.timeout_ms,
        attempts: webhook.attempts,
        backoffMs: webhook.backoff_ms,
        deadLetterPath: join(stateDirectory, 'alerts-dead-letter.jsonl'),
        gatewayId,
        onDeadLetter: (payload, error) => logger.error({ alert: payload, error }, 'alert webhook failed: dead-lettered'),
      });
    }
    this.alerts = new AlertCenter(new FallbackAlertClaims(sharedClaims), logger, this.webhook, gatewayId);
    const settleError = (error: unknown) => logger.warn({ err: error }, 'could not settle a limit or budget reservation');
    this.rateLimits = new RateLimitPolicy(this.limiter, config.limits, gatewayId, settleError);
    const { default_ms: deadlineMs, max_ms: maxDeadlineMs } = config.reliability.deadline;
    const leaseMs = Math.max(deadlineMs, maxDeadlineMs) + (config.budgets.reservation_lease_margin_ms ?? 60_000);
    this.budgets = new BudgetPolicy(this.budgetStore, config.budgets, this.ledger, config.alerts.thresholds, (crossing) => this.alerts.budgetCrossed(crossing), gatewayId, settleError, clock, leaseMs);
    this.accounting = new Accounting(this.writer, this.prices, config.limits.default_max_tokens, gatewayId, clock);
    if (this.ledger && config.alerts.anomaly.enabled) {
      this.anomaly = new AnomalyDetector(this.ledger, this.alerts, { ratio: config.alerts.anomaly.ratio, minSpendUsd: config.alerts.anomaly.min_spend_usd, timeZone: config.budgets.timezone, clock });
    }
    if (options.registry) this.metrics = new CostMetrics(options.registry, gatewayId);
  }

  /** Accounting, model access, rate limits, budgets: outermost first (accounting sees refused requests too). */
  chatSteps(): ChatStep[] {
    const { prices } = this;
    const defaultMaxTokens = this.config.limits.default_max_tokens;
    return [this.accounting.chatStep, modelAccessChatStep, rateLimitChatStep(this.rateLimits, prices, defaultMaxTokens), budgetChatStep(this.budgets, prices, defaultMaxTokens)];
  }

  embeddingsSteps(): EmbeddingsStep[] {
    return [this.accounting.embeddingsStep, modelAccessEmbeddingsStep, rateLimitEmbeddingsStep(this.rateLimits, this.prices), budgetEmbeddingsStep(this.budgets, this.prices)];
  }

  async start(): Promise<void> {
    // A ledger store that is down at start-up must not stop the gateway: records spool until it is back.
    await this.ledger?.migrate().catch((error: unknown) => this.options.logger.error({ err: error }, 'spend ledger store unreachable at start-up'));
    await this.writer?.start();
    await this.keys?.start();
    if (this.anomaly) {
      const anomaly = this.anomaly;
      this.anomalyTimer = setInterval(() => {
        anomaly.check().catch((error: unknown) => this.options.logger.debug({ err: error }, 'cost anomaly check failed'));
      }, this.config.alerts.anomaly.check_interval_ms);
      this.anomalyTimer.unref();
    }
  }

  /** After the HTTP server closed: writes what the ledger still holds, then lets go of the stores. */
  async close(): Promise<void> {
    clearInterval(this.anomalyTimer);
    this.accounting.dispose();
    await this.writer?.close();
    await this.ledger?.close();
    await this.webhook?.settle();
    await this.keys?.close();
    await this.limiter.close();
    this.metrics?.close();
    this.redis?.disconnect();
    this.subscriber?.disconnect();
    await this.postgres?.end().catch(() => undefined);
    if (this.sqlite) releaseSqlite(this.sqlite);
  }
}

/** SQLite opened on first use, so a gateway that never stores anything never creates the file. */
class LazySqliteKeyStore extends SqliteKeyStore {
  constructor(open: () => SqliteDatabase) {
    super(lazyDatabase(open));
  }
  override async close(): Promise<void> {}
}

class LazySqliteLedger extends SqliteLedger {
  constructor(open: () => SqliteDatabase) {
    super(lazyDatabase(open));
  }
  override async close(): Promise<void> {}
}

class LazySqliteClaims extends SqliteAlertClaims {
  constructor(open: () => SqliteDatabase) {
    super(lazyDatabase(open));
  }
}

/** A stand-in that opens the real database the first time any of its members is used. */
function lazyDatabase(open: () => SqliteDatabase): SqliteDatabase {
  return new Proxy({} as SqliteDatabase, {
    get(_target, property) {
      const database = open();
      const value = Reflect.get(database, property, database) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(database) : value;
    },
  });
}
