// The `catalogue:` config section: per-model overrides merged over the bundled model catalogue.
import { Type, type Static } from '@sinclair/typebox';

const PricePerMillion = (description: string) => Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000, description }));
const TokenCount = (description: string) => Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000, description }));

export const CatalogueOverrideSchema = Type.Object(
  {
    provider: Type.Optional(Type.String({ minLength: 1, description: 'who makes or serves the model (openai, anthropic, google, bedrock, local…)' })),
    mode: Type.Optional(Type.Union([Type.Literal('chat'), Type.Literal('embeddings')])),
    context_window: TokenCount('input + output tokens the model accepts'),
    max_output_tokens: TokenCount('longest completion the model produces'),
    input_per_million: PricePerMillion('USD per million input (prompt) tokens'),
    output_per_million: PricePerMillion('USD per million output (completion) tokens'),
    cached_input_per_million: PricePerMillion('USD per million input tokens read from the provider\'s prompt cache'),
    capabilities: Type.Optional(
      Type.Object(
        {
          tools: Type.Optional(Type.Boolean()),
          vision: Type.Optional(Type.Boolean()),
          json_mode: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const CatalogueConfigSchema = Type.Object(
  {
    models: Type.Record(Type.String({ minLength: 1 }), CatalogueOverrideSchema, {
      default: {},
      description: 'model name → fields that replace the bundled entry (a name not bundled must give provider, context_window, max_output_tokens and prices)',
    }),
  },
  { additionalProperties: false, default: {} },
);

export type CatalogueOverride = Static<typeof CatalogueOverrideSchema>;
export type CatalogueConfig = Static<typeof CatalogueConfigSchema>;
