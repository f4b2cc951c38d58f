// The configuration schema: one TypeBox definition gives the types, the validation and the defaults.
import { Type, type Static } from '@sinclair/typebox';
import { CatalogueConfigSchema } from '../catalogue/config-schema.js';
import { CacheConfigSchema } from '../cache/config-schema.js';
import { AccountingConfigSchema, AlertsConfigSchema } from '../accounting/config-schema.js';
import { KeysConfigSchema } from '../keys/config-schema.js';
import { AzureEntraSettingsSchema } from '../providers/azure-openai/config-schema.js';
import { BudgetsConfigSchema, LimitsConfigSchema } from '../limits/config-schema.js';

const Milliseconds = (defaultValue: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 24 * 3600 * 1000, default: defaultValue, description });

export const TimeoutsSchema = Type.Object(
  {
    connect_ms: Milliseconds(5_000, 'TCP/TLS connect timeout per attempt'),
    first_byte_ms: Milliseconds(60_000, 'time to the upstream response headers per attempt'),
    idle_ms: Milliseconds(30_000, 'longest silence between two chunks of an upstream body'),
    total_ms: Milliseconds(600_000, 'whole upstream call, body included'),
  },
  { additionalProperties: false, default: {} },
);

/**
 * An upstream deployment's own quota (provider model entry or route candidate): counted per provider + upstream model
 * across every route and replica, checked when the fallback executor is about to call it (src/limits/deployment-quotas.ts).
 */
const DeploymentQuotaFields = {
  rpm: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: "this deployment's requests per minute (e.g. the provider's quota); over it the deployment is skipped like an open breaker" })),
  tpm: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: "this deployment's tokens per minute (prompt estimate + max_tokens reserved, reconciled with the real usage)" })),
};

export const ModelEntrySchema = Type.Union([
  Type.String({ minLength: 1 }),
  Type.Object(
    {
      name: Type.String({ minLength: 1, description: 'public model name clients send' }),
      model: Type.String({ minLength: 1, description: 'model name sent upstream' }),
      ...DeploymentQuotaFields,
    },
    { additionalProperties: false },
  ),
]);

export const SimSettingsSchema = Type.Object(
  {
    first_token_ms: Type.Integer({ minimum: 0, default: 0 }),
    per_token_ms: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
);

export const AwsSettingsSchema = Type.Object(
  {
    region: Type.Optional(Type.String({ minLength: 1, description: 'default: AWS_REGION, then AWS_DEFAULT_REGION' })),
    access_key_id: Type.Optional(Type.String({ minLength: 1, description: 'default: AWS_ACCESS_KEY_ID' })),
    secret_access_key: Type.Optional(Type.String({ minLength: 1, description: 'default: AWS_SECRET_ACCESS_KEY' })),
    session_token: Type.Optional(Type.String({ minLength: 1, description: 'default: AWS_SESSION_TOKEN' })),
  },
  { additionalProperties: false },
);

export const ProviderSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]*$', description: 'instance name, shown in x-breakwater-provider' }),
    type: Type.Union([Type.Literal('openai'), Type.Literal('openai-compatible'), Type.Literal('sim'), Type.Literal('azure-openai'), Type.Literal('bedrock'), Type.Literal('anthropic'), Type.Literal('gemini')]),
    base_url: Type.Optional(Type.String({ minLength: 1 })),
    api_key: Type.Optional(Type.String()),
    organization: Type.Optional(Type.String()),
    api_version: Type.Optional(Type.String({ minLength: 1, description: 'azure-openai: the api-version query parameter' })),
    azure_ad_token: Type.Optional(Type.String({ minLength: 1, description: 'azure-openai: Microsoft Entra ID token, sent as Authorization: Bearer (instead of api_key)' })),
    azure_ad: Type.Optional(AzureEntraSettingsSchema),
    aws: Type.Optional(AwsSettingsSchema),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    models: Type.Array(ModelEntrySchema, { default: [] }),
    passthrough: Type.Boolean({ default: false, description: 'serve model names no provider lists, unchanged' }),
    timeouts: TimeoutsSchema,
    max_connections: Type.Integer({ minimum: 1, maximum: 65_536, default: 256 }),
    max_response_bytes: Type.Integer({ minimum: 1024, default: 32 * 1024 * 1024 }),
    latency: Type.Optional(SimSettingsSchema),
    faults: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    wire: Type.Optional(
      Type.Union([Type.Literal('openai'), Type.Literal('anthropic'), Type.Literal('gemini')], {
        description: 'sim: which provider wire format the simulator speaks (default openai); the matching adapter talks to it',
      }),
    ),
    default_max_tokens: Type.Optional(Type.Integer({ minimum: 1, description: 'anthropic: max_tokens sent when the client gives none (default 4096)' })),
  },
  { additionalProperties: false },
);

export const CandidateSchema = Type.Object(
  {
    provider: Type.String({ minLength: 1, description: 'a providers[].name' }),
    model: Type.String({ minLength: 1, description: 'model name sent upstream' }),
    weight: Type.Number({ minimum: 0, maximum: 1_000_000, default: 1, description: 'share of traffic among candidates of the same tier' }),
    tier: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'lower tiers are tried first; default: the position in the list' })),
    context_window: Type.Optional(Type.Integer({ minimum: 1, description: 'tokens; used to pick a larger candidate on context-length errors' })),
    ...DeploymentQuotaFields,
  },
  { additionalProperties: false },
);

export const RouteSchema = Type.Object(
  {
    model: Type.String({ minLength: 1, description: 'public model name clients send' }),
    candidates: Type.Array(CandidateSchema, { minItems: 1, maxItems: 64 }),
  },
  { additionalProperties: false },
);

export const ReliabilitySchema = Type.Object(
  {
    max_attempts: Type.Integer({ minimum: 1, maximum: 10, default: 3, description: 'upstream attempts per request, retries and fallbacks included' }),
    backoff: Type.Object(
      { base_ms: Type.Integer({ minimum: 1, default: 250 }), cap_ms: Type.Integer({ minimum: 1, default: 8_000 }) },
      { additionalProperties: false, default: {} },
    ),
    deadline: Type.Object(
      {
        default_ms: Type.Integer({ minimum: 100, default: 600_000, description: 'total time per request, every retry and fallback included' }),
        max_ms: Type.Integer({ minimum: 100, default: 600_000, description: 'x-breakwater-timeout-ms may lower the deadline, never raise it past this' }),
      },
      { additionalProperties: false, default: {} },
    ),
    retry_budget: Type.Object(
      {
        ratio: Type.Number({ minimum: 0, maximum: 10, default: 0.2 }),
        min_concurrent: Type.Integer({ minimum: 0, maximum: 1_000, default: 3 }),
        window_seconds: Type.Number({ minimum: 1, maximum: 3_600, default: 10 }),
      },
      { additionalProperties: false, default: {} },
    ),
    breaker: Type.Object(
      {
        window_seconds: Type.Number({ minimum: 1, maximum: 3_600, default: 30 }),
        min_calls: Type.Integer({ minimum: 1, default: 10 }),
        failure_rate: Type.Number({ minimum: 0.01, maximum: 1, default: 0.5 }),
        consecutive_failures: Type.Integer({ minimum: 1, default: 5 }),
        cooldown_ms: Type.Integer({ minimum: 1, default: 5_000 }),
        max_cooldown_ms: Type.Integer({ minimum: 1, default: 60_000 }),
        half_open_probes: Type.Integer({ minimum: 1, maximum: 100, default: 1 }),
      },
      { additionalProperties: false, default: {} },
    ),
    on_content_policy: Type.Union([Type.Literal('return'), Type.Literal('fallback')], {
      default: 'return',
      description: 'a safety refusal is returned to the client unless set to fallback',
    }),
    idempotency: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        ttl_seconds: Type.Integer({ minimum: 1, maximum: 30 * 86_400, default: 86_400 }),
        lock_ttl_ms: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 120_000, description: 'a crashed holder\'s lock expires after this' }),
        on_concurrent: Type.Union([Type.Literal('wait'), Type.Literal('conflict')], { default: 'wait' }),
        backend: Type.Union([Type.Literal('auto'), Type.Literal('sqlite'), Type.Literal('redis')], { default: 'auto', description: 'auto: redis when stores.redis is set' }),
        max_stored_bytes: Type.Integer({ minimum: 1_024, default: 8 * 1024 * 1024 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65_535, default: 8080 }),
        body_limit_bytes: Type.Integer({ minimum: 1024, maximum: 256 * 1024 * 1024, default: 4 * 1024 * 1024 }),
        max_messages: Type.Integer({ minimum: 1, maximum: 100_000, default: 2_048 }),
        drain_seconds: Type.Number({ minimum: 0, maximum: 3_600, default: 25, description: 'how long in-flight requests and streams may take to finish after SIGTERM' }),
        shutdown_delay_seconds: Type.Number({
          minimum: 0,
          maximum: 300,
          default: 0,
          description: 'after SIGTERM, keep accepting connections this long with /ready at 503 (lets load balancers notice) before draining',
        }),
        ready_cache_ms: Type.Integer({ minimum: 0, maximum: 60_000, default: 1_000 }),
        request_timeout_ms: Type.Integer({ minimum: 1_000, default: 660_000 }),
        keep_alive_timeout_ms: Type.Integer({ minimum: 1_000, default: 72_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    auth: Type.Object(
      {
        master_key: Type.Optional(Type.String({ minLength: 16, description: 'Bearer key clients must present; from the environment' })),
      },
      { additionalProperties: false, default: {} },
    ),
    logging: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
          { default: 'info' },
        ),
        success_sample_rate: Type.Number({
          minimum: 0,
          maximum: 1,
          default: 1,
          description: 'share of successful request lines written (errors always are); 0.1 keeps one in ten',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    metrics: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        require_auth: Type.Boolean({ default: false, description: 'ask for the master key on /metrics too' }),
      },
      { additionalProperties: false, default: {} },
    ),
    stores: Type.Object(
      {
        sqlite: Type.Object(
          { path: Type.String({ default: '.breakwater/breakwater.db', description: 'embedded store file (keys, ledger, idempotency, cache L2)' }) },
          { additionalProperties: false, default: {} },
        ),
        redis: Type.Optional(
          Type.Object(
            {
              url: Type.String({ minLength: 1, description: 'redis://host:port/db — enables the shared (multi-replica) backends' }),
              key_prefix: Type.String({ default: 'bw:' }),
              command_timeout_ms: Type.Integer({ minimum: 1, maximum: 60_000, default: 50 }),
            },
            { additionalProperties: false },
          ),
        ),
        postgres: Type.Optional(
          Type.Object(
            {
              url: Type.String({ minLength: 1, description: 'postgres://user@host:5432/db — spend ledger and keys for scale-out' }),
              max_connections: Type.Integer({ minimum: 1, maximum: 1_000, default: 10 }),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    providers: Type.Array(ProviderSchema, { minItems: 1 }),
    cache: CacheConfigSchema,
    catalogue: CatalogueConfigSchema,
    routes: Type.Array(RouteSchema, { default: [], description: 'fallback chains: public model → ordered candidates' }),
    reliability: ReliabilitySchema,
    keys: KeysConfigSchema,
    limits: LimitsConfigSchema,
    budgets: BudgetsConfigSchema,
    accounting: AccountingConfigSchema,
    alerts: AlertsConfigSchema,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ProviderConfig = Static<typeof ProviderSchema>;
export type TimeoutsConfig = Static<typeof TimeoutsSchema>;
export type RouteConfig = Static<typeof RouteSchema>;
export type ReliabilityConfig = Static<typeof ReliabilitySchema>;
