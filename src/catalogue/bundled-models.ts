// The bundled model catalogue: provider, limits, list prices and capabilities of well-known models.
//
// PRICES CHANGE. These are list prices in USD per million tokens as published by OpenAI, Anthropic, Google and
// AWS (us-east-1, on-demand) up to mid-2025, compiled into this table on 2026-11-23. Check them against the
// providers' pricing pages before relying on them for billing, and override them in config (`catalogue.models`).
// Gemini prices are the lowest tier (prompts ≤128k/≤200k tokens). `sim-*` prices are made up, for tests and demos.

export type ModelMode = 'chat' | 'embeddings';

export interface ModelCapabilities {
  tools: boolean;
  vision: boolean;
  json_mode: boolean;
}

export interface CatalogueEntry {
  provider: string;
  mode: ModelMode;
  context_window: number;
  max_output_tokens: number;
  input_per_million: number;
  output_per_million: number;
  /** Absent when the provider has no discounted cached-input price. */
  cached_input_per_million?: number;
  capabilities: ModelCapabilities;
}

type Flags = 'tvj' | 'tv' | 'tj' | 't' | 'j' | '';

function capabilities(flags: Flags): ModelCapabilities {
  return { tools: flags.includes('t'), vision: flags.includes('v'), json_mode: flags.includes('j') };
}

function chat(provider: string, contextWindow: number, maxOutput: number, input: number, output: number, cached: number | undefined, flags: Flags): CatalogueEntry {
  return {
    provider,
    mode: 'chat',
    context_window: contextWindow,
    max_output_tokens: maxOutput,
    input_per_million: input,
    output_per_million: output,
    ...(cached === undefined ? {} : { cached_input_per_million: cached }),
    capabilities: capabilities(flags),
  };
}

function embeddings(provider: string, contextWindow: number, input: number): CatalogueEntry {
  return { provider, mode: 'embeddings', context_window: contextWindow, max_output_tokens: 1, input_per_million: input, output_per_million: 0, capabilities: capabilities('') };
}

export const bundledModels: Readonly<Record<string, CatalogueEntry>> = {
  // OpenAI
  'gpt-4o': chat('openai', 128_000, 16_384, 2.5, 10, 1.25, 'tvj'),
  'gpt-4o-mini': chat('openai', 128_000, 16_384, 0.15, 0.6, 0.075, 'tvj'),
  'gpt-4.1': chat('openai', 1_047_576, 32_768, 2, 8, 0.5, 'tvj'),
  'gpt-4.1-mini': chat('openai', 1_047_576, 32_768, 0.4, 1.6, 0.1, 'tvj'),
  'gpt-4.1-nano': chat('openai', 1_047_576, 32_768, 0.1, 0.4, 0.025, 'tvj'),
  o1: chat('openai', 200_000, 100_000, 15, 60, 7.5, 'tvj'),
  'o1-mini': chat('openai', 128_000, 65_536, 1.1, 4.4, 0.55, ''),
  o3: chat('openai', 200_000, 100_000, 2, 8, 0.5, 'tvj'),
  'o3-mini': chat('openai', 200_000, 100_000, 1.1, 4.4, 0.55, 'tj'),
  'o4-mini': chat('openai', 200_000, 100_000, 1.1, 4.4, 0.275, 'tvj'),
  'gpt-3.5-turbo': chat('openai', 16_385, 4_096, 0.5, 1.5, undefined, 'tj'),
  'text-embedding-3-small': embeddings('openai', 8_191, 0.02),
  'text-embedding-3-large': embeddings('openai', 8_191, 0.13),
  'text-embedding-ada-002': embeddings('openai', 8_191, 0.1),

  // Anthropic (cached = cache read; cache writes cost 1.25× input and are not modelled here)
  'claude-3-haiku-20240307': chat('anthropic', 200_000, 4_096, 0.25, 1.25, 0.03, 'tv'),
  'claude-3-opus-20240229': chat('anthropic', 200_000, 4_096, 15, 75, 1.5, 'tv'),
  'claude-3-5-haiku-20241022': chat('anthropic', 200_000, 8_192, 0.8, 4, 0.08, 'tv'),
  'claude-3-5-sonnet-20240620': chat('anthropic', 200_000, 8_192, 3, 15, 0.3, 'tv'),
  'claude-3-5-sonnet-20241022': chat('anthropic', 200_000, 8_192, 3, 15, 0.3, 'tv'),
  'claude-3-7-sonnet-20250219': chat('anthropic', 200_000, 64_000, 3, 15, 0.3, 'tv'),
  'claude-sonnet-4-20250514': chat('anthropic', 200_000, 64_000, 3, 15, 0.3, 'tv'),
  'claude-opus-4-20250514': chat('anthropic', 200_000, 32_000, 15, 75, 1.5, 'tv'),
  'claude-opus-4-1-20250805': chat('anthropic', 200_000, 32_000, 15, 75, 1.5, 'tv'),

  // Google Gemini (Google AI API)
  'gemini-1.5-pro': chat('google', 2_097_152, 8_192, 1.25, 5, 0.3125, 'tvj'),
  'gemini-1.5-flash': chat('google', 1_048_576, 8_192, 0.075, 0.3, 0.01875, 'tvj'),
  'gemini-2.0-flash': chat('google', 1_048_576, 8_192, 0.1, 0.4, 0.025, 'tvj'),
  'gemini-2.0-flash-lite': chat('google', 1_048_576, 8_192, 0.075, 0.3, undefined, 'tvj'),
  'gemini-2.5-pro': chat('google', 1_048_576, 65_536, 1.25, 10, 0.31, 'tvj'),
  'gemini-2.5-flash': chat('google', 1_048_576, 65_536, 0.3, 2.5, 0.075, 'tvj'),
  'gemini-2.5-flash-lite': chat('google', 1_048_576, 65_536, 0.1, 0.4, 0.025, 'tvj'),
  'text-embedding-004': embeddings('google', 2_048, 0),
  'gemini-embedding-001': embeddings('google', 2_048, 0.15),

  // AWS Bedrock model ids (cross-region prefixes like `us.` are looked up without the prefix)
  'anthropic.claude-3-haiku-20240307-v1:0': chat('bedrock', 200_000, 4_096, 0.25, 1.25, undefined, 'tv'),
  'anthropic.claude-3-5-haiku-20241022-v1:0': chat('bedrock', 200_000, 8_192, 0.8, 4, 0.08, 'tv'),
  'anthropic.claude-3-5-sonnet-20240620-v1:0': chat('bedrock', 200_000, 8_192, 3, 15, undefined, 'tv'),
  'anthropic.claude-3-5-sonnet-20241022-v2:0': chat('bedrock', 200_000, 8_192, 3, 15, 0.3, 'tv'),
  'anthropic.claude-3-7-sonnet-20250219-v1:0': chat('bedrock', 200_000, 64_000, 3, 15, 0.3, 'tv'),
  'anthropic.claude-sonnet-4-20250514-v1:0': chat('bedrock', 200_000, 64_000, 3, 15, 0.3, 'tv'),
  'amazon.nova-pro-v1:0': chat('bedrock', 300_000, 5_000, 0.8, 3.2, 0.2, 'tv'),
  'amazon.nova-lite-v1:0': chat('bedrock', 300_000, 5_000, 0.06, 0.24, 0.015, 'tv'),
  'amazon.nova-micro-v1:0': chat('bedrock', 128_000, 5_000, 0.035, 0.14, 0.00875, 't'),
  'meta.llama3-1-70b-instruct-v1:0': chat('bedrock', 128_000, 2_048, 0.72, 0.72, undefined, 't'),
  'amazon.titan-embed-text-v2:0': embeddings('bedrock', 8_192, 0.02),
  'cohere.embed-english-v3': embeddings('bedrock', 512, 0.1),
  'cohere.embed-multilingual-v3': embeddings('bedrock', 512, 0.1),

  // The simulator: made-up prices so cost accounting can be tested end to end.
  'sim-fast': chat('sim', 16_384, 4_096, 0.5, 1.5, 0.25, 'tvj'),
  'sim-smart': chat('sim', 128_000, 8_192, 5, 15, 2.5, 'tvj'),
  'sim-embed': embeddings('sim', 8_192, 0.1),
};

/** Other names providers accept for the same model (moving aliases and un-dated names). */
export const bundledAliases: Readonly<Record<string, string>> = {
  'claude-3-5-haiku-latest': 'claude-3-5-haiku-20241022',
  'claude-3-5-sonnet-latest': 'claude-3-5-sonnet-20241022',
  'claude-3-7-sonnet-latest': 'claude-3-7-sonnet-20250219',
  'claude-sonnet-4-0': 'claude-sonnet-4-20250514',
  'claude-opus-4-0': 'claude-opus-4-20250514',
  'claude-opus-4-1': 'claude-opus-4-1-20250805',
  'gemini-1.5-pro-latest': 'gemini-1.5-pro',
  'gemini-1.5-flash-latest': 'gemini-1.5-flash',
  'gemini-2.0-flash-001': 'gemini-2.0-flash',
  'chatgpt-4o-latest': 'gpt-4o',
};

