// Model prices (USD per million tokens): `accounting.prices` overrides first, then the model catalogue (src/catalogue/).
import type { Catalogue } from '../catalogue/catalogue.js';
import type { Usage } from '../core/types.js';

export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
  /** Price of prompt tokens served from the provider's prompt cache; defaults to the input price. */
  cachedInputPerMillion?: number;
}

/** Where prices come from; the model catalogue implements it once it exists. */
export interface PriceSource {
  priceOf(model: string): ModelPrice | undefined;
}

export interface ConfiguredPrice {
  input_per_million: number;
  output_per_million: number;
  cached_input_per_million?: number;
}

export class PriceTable implements PriceSource {
  private readonly configured = new Map<string, ModelPrice>();

  constructor(
    configured: Record<string, ConfiguredPrice>,
    private readonly fallbacks: PriceSource[] = [],
  ) {
    for (const [model, price] of Object.entries(configured)) {
      this.configured.set(model, {
        inputPerMillion: price.input_per_million,
        outputPerMillion: price.output_per_million,
        ...(price.cached_input_per_million === undefined ? {} : { cachedInputPerMillion: price.cached_input_per_million }),
      });
    }
  }

  priceOf(model: string): ModelPrice | undefined {
    const configured = this.configured.get(model);
    if (configured) return configured;
    for (const source of this.fallbacks) {
      const price = source.priceOf(model);
      if (price) return price;
    }
    return undefined;
  }
}

/** The model catalogue as a price source. */
export function cataloguePrices(catalogue: Catalogue): PriceSource {
  return {
    priceOf(model) {
      const entry = catalogue.lookupModel(model);
      if (!entry) return undefined;
      return {
        inputPerMillion: entry.input_per_million,
        outputPerMillion: entry.output_per_million,
        ...(entry.cached_input_per_million === undefined ? {} : { cachedInputPerMillion: entry.cached_input_per_million }),
      };
    },
  };
}

/** Rounds to 1e-10 USD so sums of many requests stay exact enough to compare. */
function roundUsd(value: number): number {
  return Math.round(value * 1e10) / 1e10;
}

/** Cost of a finished call from its usage; 0 when the model has no known price. */
export function costOfUsage(price: ModelPrice | undefined, usage: Pick<Usage, 'prompt_tokens' | 'completion_tokens' | 'prompt_tokens_details'>): number {
  if (!price) return 0;
  const cached = Math.min(usage.prompt_tokens_details?.cached_tokens ?? 0, usage.prompt_tokens);
  const cachedPrice = price.cachedInputPerMillion ?? price.inputPerMillion;
  return roundUsd(((usage.prompt_tokens - cached) * price.inputPerMillion + cached * cachedPrice + usage.completion_tokens * price.outputPerMillion) / 1e6);
}

/** The most a call can cost given its prompt estimate and output cap (cached input is not assumed). */
export function maxCostEstimate(price: ModelPrice | undefined, promptTokens: number, maxOutputTokens: number): number {
  if (!price) return 0;
  return roundUsd((promptTokens * price.inputPerMillion + maxOutputTokens * price.outputPerMillion) / 1e6);
}
