// The `keys:` config section: where virtual keys live and how long a looked-up key is trusted.
import { Type, type Static } from '@sinclair/typebox';

export const KeysConfigSchema = Type.Object(
  {
    store: Type.Union([Type.Literal('auto'), Type.Literal('sqlite'), Type.Literal('postgres')], {
      default: 'auto',
      description: 'auto: PostgreSQL when stores.postgres is set, else the embedded SQLite file',
    }),
    cache_ttl_ms: Type.Integer({
      minimum: 0,
      maximum: 2_000,
      default: 1_000,
      description: 'how long a looked-up key is trusted; bounds how late a revocation takes effect when Redis pub/sub is not there',
    }),
  },
  { additionalProperties: false, default: {} },
);

export type KeysConfig = Static<typeof KeysConfigSchema>;
