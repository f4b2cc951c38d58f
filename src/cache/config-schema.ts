// The `cache` section of the configuration (registered in src/config/schema.ts).
import { Type, type Static } from '@sinclair/typebox';

const Name = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' });
const Mode = Type.Union([Type.Literal('deterministic'), Type.Literal('always'), Type.Literal('off')], {
  description: 'deterministic: cache only requests with temperature 0 or a seed; always: every request; off: never',
});

export const CacheSemanticSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    embedder: Type.String({ minLength: 1, default: 'local', description: '`local` (offline: lexical + WordNet) or a providers[].name whose /v1/embeddings is used' }),
    embedding_model: Type.Optional(Type.String({ minLength: 1, description: 'model sent to that provider (required unless embedder is local)' })),
    threshold: Type.Number({ minimum: 0, maximum: 1, default: 0.8, description: 'cosine similarity a neighbour must reach' }),
    guard: Type.Boolean({ default: true, description: 'reject neighbours whose meaning differs (negation, antonyms, numbers, dates, names, substituted words)' }),
    max_entries: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 20_000, description: 'vectors kept in the in-process index (oldest evicted)' }),
    max_candidates: Type.Integer({ minimum: 1, maximum: 50, default: 5, description: 'neighbours the guard examines per lookup' }),
    max_query_characters: Type.Integer({ minimum: 1, maximum: 100_000, default: 2_000, description: 'longer questions use the exact cache only' }),
    embed_timeout_ms: Type.Integer({ minimum: 1, maximum: 60_000, default: 2_000, description: 'a provider embedding slower than this skips the semantic lookup' }),
  },
  { additionalProperties: false, default: {} },
);

export const CacheConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'response cache for /v1/chat/completions (completions are stored: see the README on privacy)' }),
    mode: Type.Union([Type.Literal('deterministic'), Type.Literal('always')], { default: 'deterministic', description: 'which requests are cached without opting in' }),
    namespace: { ...Name, default: 'default', description: 'default namespace (clients may pick one with x-breakwater-cache-namespace)' },
    ttl_seconds: Type.Integer({ minimum: 1, maximum: 30 * 86_400, default: 3_600 }),
    max_ttl_seconds: Type.Integer({ minimum: 1, maximum: 365 * 86_400, default: 7 * 86_400, description: 'upper bound for x-breakwater-cache-ttl' }),
    max_entry_bytes: Type.Integer({ minimum: 1_024, maximum: 64 * 1024 * 1024, default: 1024 * 1024, description: 'larger answers are not cached' }),
    memory_max_bytes: Type.Integer({ minimum: 0, maximum: 16 * 1024 * 1024 * 1024, default: 64 * 1024 * 1024, description: 'L1 (in-process LRU) size; 0 turns L1 off' }),
    store: Type.Union([Type.Literal('auto'), Type.Literal('memory'), Type.Literal('sqlite'), Type.Literal('redis')], {
      default: 'auto',
      description: 'L2: auto = redis when stores.redis is set, else sqlite (stores.sqlite.path); memory = L1 only',
    }),
    key_prefix: Type.String({ default: 'cache:', description: 'appended to stores.redis.key_prefix' }),
    sqlite_max_entries: Type.Integer({ minimum: 1, maximum: 100_000_000, default: 200_000, description: 'rows kept in the SQLite L2 (oldest expiry evicted first)' }),
    coalesce_wait_ms: Type.Integer({ minimum: 0, maximum: 600_000, default: 60_000, description: 'how long identical concurrent misses wait for the first one' }),
    namespaces: Type.Record(Type.String(), Type.Object({ ttl_seconds: Type.Integer({ minimum: 1, maximum: 365 * 86_400 }) }, { additionalProperties: false }), {
      default: {},
      description: 'TTL per namespace',
    }),
    models: Type.Record(
      Type.String(),
      Type.Object(
        {
          mode: Type.Optional(Mode),
          ttl_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 * 86_400 })),
          semantic: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
      { default: {}, description: 'per public model name: mode (off disables caching for it), TTL, semantic on/off' },
    ),
    semantic: CacheSemanticSchema,
  },
  { additionalProperties: false, default: {} },
);

export type CacheConfig = Static<typeof CacheConfigSchema>;
