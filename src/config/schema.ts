// The configuration schema: one TypeBox definition gives the types, the validation and the defaults.
import { Type, type Static } from '@sinclair/typebox';
import { CatalogueConfigSchema } from '../catalogue/config-schema.js';

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

export const ModelEntrySchema = Type.Union([
  Type.String({ minLength: 1 }),
  Type.Object(
    {
      name: Type.String({ minLength: 1, description: 'public model name clients send' }),
      model: Type.String({ minLength: 1, description: 'model name sent upstream' }),
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
    type: Type.Union([Type.Literal('openai'), Type.Literal('openai-compatible'), Type.Literal('sim'), Type.Literal('azure-openai'), Type.Literal('bedrock')]),
    base_url: Type.Optional(Type.String({ minLength: 1 })),
    api_key: Type.Optional(Type.String()),
    organization: Type.Optional(Type.String()),
    api_version: Type.Optional(Type.String({ minLength: 1, description: 'azure-openai: the api-version query parameter' })),
    azure_ad_token: Type.Optional(Type.String({ minLength: 1, description: 'azure-openai: Microsoft Entra ID token, sent as Authorization: Bearer (instead of api_key)' })),
    aws: Type.Optional(AwsSettingsSchema),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    models: Type.Array(ModelEntrySchema, { default: [] }),
    passthrough: Type.Boolean({ default: false, description: 'serve model names no provider lists, unchanged' }),
    timeouts: TimeoutsSchema,
    max_connections: Type.Integer({ minimum: 1, maximum: 65_536, default: 256 }),
    max_response_bytes: Type.Integer({ minimum: 1024, default: 32 * 1024 * 1024 }),
    latency: Type.Optional(SimSettingsSchema),
    faults: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  { additionalProperties: false },
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
    catalogue: CatalogueConfigSchema,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ProviderConfig = Static<typeof ProviderSchema>;
export type TimeoutsConfig = Static<typeof TimeoutsSchema>;
