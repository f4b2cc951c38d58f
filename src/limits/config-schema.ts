// The `limits:` and `budgets:` config sections: rate limits per key, user, tier and model, and spend/token budgets.
import { Type, type Static } from '@sinclair/typebox';

const PerMinute = (description: string) => Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000, description }));

export const RateSchema = Type.Object(
  {
    rpm: PerMinute('requests per minute'),
    tpm: PerMinute('tokens per minute (prompt estimate + max_tokens reserved up front, reconciled with the real usage)'),
    burst_requests: PerMinute('request bucket size (default: rpm): requests that may arrive at once'),
    burst_tokens: PerMinute('token bucket size (default: tpm)'),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'requests in flight at once (keys and tiers)' })),
  },
  { additionalProperties: false },
);

export const LimitsConfigSchema = Type.Object(
  {
    backend: Type.Union([Type.Literal('auto'), Type.Literal('memory'), Type.Literal('redis')], {
      default: 'auto',
      description: 'auto: Redis when stores.redis is set (shared by replicas), else in-process memory',
    }),
    on_redis_failure: Type.Union([Type.Literal('open'), Type.Literal('closed')], {
      default: 'open',
      description: 'open: a local in-process limiter takes over while Redis is unreachable; closed: 503 BW_ERR_LIMITER_UNAVAILABLE',
    }),
    decide_within_ms: Type.Integer({ minimum: 1, maximum: 1_000, default: 40, description: 'longest wait for Redis before the failure mode decides (40 ms leaves room to answer within 50 ms)' }),
    probe_interval_ms: Type.Integer({ minimum: 100, maximum: 60_000, default: 1_000, description: 'after a Redis failure, how long to use the failure mode before trying Redis again' }),
    default_max_tokens: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 1_024, description: 'output tokens reserved when a request gives no max_tokens' }),
    concurrency_lease_ms: Type.Integer({ minimum: 1_000, maximum: 3_600_000, default: 600_000, description: 'a concurrency slot whose holder died frees itself after this' }),
    key: Type.Optional(RateSchema),
    user: Type.Optional(RateSchema),
    tiers: Type.Record(Type.String({ minLength: 1 }), RateSchema, { default: {}, description: 'per tier name (keys carry a tier); applies to each key of the tier' }),
    models: Type.Record(Type.String({ minLength: 1 }), RateSchema, { default: {}, description: 'per public model name, for all callers together (stay under provider quotas)' }),
  },
  { additionalProperties: false, default: {} },
);

export const BudgetRuleSchema = Type.Object(
  {
    scope: Type.Union([Type.Literal('key'), Type.Literal('user'), Type.Literal('team'), Type.Literal('session'), Type.Literal('global')], { description: 'whose spend is counted' }),
    period: Type.Union([Type.Literal('day'), Type.Literal('month')]),
    cost_usd: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e9 })),
    tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 1e15 })),
  },
  { additionalProperties: false },
);

export const BudgetsConfigSchema = Type.Object(
  {
    timezone: Type.String({ default: 'UTC', description: 'IANA zone where days and months begin (e.g. Europe/Paris)' }),
    max_request_cost_usd: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'refuse a request whose worst-case cost (prompt + max_tokens) is above this' })),
    max_request_tokens: Type.Optional(Type.Integer({ minimum: 1, description: 'refuse a request whose prompt + max_tokens is above this' })),
    rules: Type.Array(BudgetRuleSchema, { default: [], maxItems: 8, description: 'each rule with cost_usd and tokens counts twice; at most 8 counters apply to one request' }),
    reservation_lease_margin_ms: Type.Optional(
      Type.Integer({
        minimum: 1_000,
        maximum: 3_600_000,
        default: 60_000,
        description: 'a reservation nobody settled (its replica died) stops counting after the longest request deadline (reliability.deadline) plus this',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

export type RateConfig = Static<typeof RateSchema>;
export type LimitsConfig = Static<typeof LimitsConfigSchema>;
export type BudgetRule = Static<typeof BudgetRuleSchema>;
export type BudgetsConfig = Static<typeof BudgetsConfigSchema>;
