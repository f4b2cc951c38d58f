// The `accounting:` and `alerts:` config sections: the spend ledger and its durable writer, prices, and alert delivery.
import { Type, type Static } from '@sinclair/typebox';

export const AccountingConfigSchema = Type.Object(
  {
    ledger: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'record one spend record per request' }),
        store: Type.Union([Type.Literal('auto'), Type.Literal('sqlite'), Type.Literal('postgres')], { default: 'auto', description: 'auto: PostgreSQL when stores.postgres is set, else SQLite' }),
        batch_size: Type.Integer({ minimum: 1, maximum: 1_000, default: 200 }),
        flush_interval_ms: Type.Integer({ minimum: 10, maximum: 60_000, default: 500 }),
        retry_attempts: Type.Integer({ minimum: 1, maximum: 20, default: 3, description: 'tries per batch before it goes to the spool file' }),
        retry_base_ms: Type.Integer({ minimum: 1, maximum: 60_000, default: 100 }),
        replay_interval_ms: Type.Integer({ minimum: 100, maximum: 600_000, default: 2_000, description: 'while spooling, how often the store is tried again' }),
        max_queue: Type.Integer({ minimum: 100, maximum: 1_000_000, default: 50_000, description: 'records held in memory at most; beyond, straight to the spool' }),
        spool_path: Type.Optional(Type.String({ minLength: 1, description: 'default: spend-spool.jsonl beside the SQLite file; one per replica' })),
      },
      { additionalProperties: false, default: {} },
    ),
    prices: Type.Record(
      Type.String({ minLength: 1 }),
      Type.Object(
        {
          input_per_million: Type.Number({ minimum: 0 }),
          output_per_million: Type.Number({ minimum: 0 }),
          cached_input_per_million: Type.Optional(Type.Number({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
      { default: {}, description: 'USD per million tokens by public model name; wins over the model catalogue' },
    ),
  },
  { additionalProperties: false, default: {} },
);

export const AlertsConfigSchema = Type.Object(
  {
    thresholds: Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 10 }), { default: [0.5, 0.8, 1], maxItems: 10, description: 'fractions of each budget that raise an alert, once per period' }),
    webhook: Type.Optional(
      Type.Object(
        {
          url: Type.String({ minLength: 1 }),
          headers: Type.Optional(Type.Record(Type.String(), Type.String())),
          timeout_ms: Type.Integer({ minimum: 100, maximum: 60_000, default: 2_000 }),
          attempts: Type.Integer({ minimum: 1, maximum: 20, default: 4, description: 'tries before the alert is dead-lettered' }),
          backoff_ms: Type.Integer({ minimum: 1, maximum: 600_000, default: 500 }),
        },
        { additionalProperties: false },
      ),
    ),
    anomaly: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        ratio: Type.Number({ exclusiveMinimum: 1, maximum: 1_000, default: 2, description: "alert when today's spend rate is above this multiple of the trailing 7-day average" }),
        check_interval_ms: Type.Integer({ minimum: 1_000, maximum: 86_400_000, default: 300_000 }),
        min_spend_usd: Type.Number({ minimum: 0, default: 1, description: 'no anomaly alert below this much spend today' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type AccountingConfig = Static<typeof AccountingConfigSchema>;
export type AlertsConfig = Static<typeof AlertsConfigSchema>;
