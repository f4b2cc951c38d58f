// The model catalogue: the bundled table with the config's overrides merged over it, looked up by model name.
import { ConfigError } from '../config/config-error.js';
import type { Config } from '../config/schema.js';
import type { Usage } from '../core/types.js';
import { bundledAliases, bundledModels, type CatalogueEntry } from './bundled-models.js';
import type { CatalogueConfig, CatalogueOverride } from './config-schema.js';

export type { CatalogueEntry, ModelCapabilities, ModelMode } from './bundled-models.js';

/** A catalogue entry with the name it is filed under (an alias or a dated snapshot resolves to its base entry). */
export interface CatalogueModel extends CatalogueEntry {
  id: string;
}

// Cross-region inference profiles (`us.anthropic.claude-…`) price like the model itself.
const bedrockRegionPrefix = /^(?:us|eu|apac|us-gov|global)\./;
// Dated snapshots (`gpt-4o-2024-08-06`) fall back to their family's entry.
const dateSuffix = /-\d{4}-\d{2}-\d{2}$/;
const requiredForNewModels = ['provider', 'context_window', 'max_output_tokens', 'input_per_million', 'output_per_million'] as const;

export class Catalogue {
  private readonly entries = new Map<string, CatalogueModel>();

  constructor(config: CatalogueConfig | undefined) {
    for (const [id, entry] of Object.entries(bundledModels)) this.entries.set(id, { id, ...entry, capabilities: { ...entry.capabilities } });
    for (const [id, override] of Object.entries(config?.models ?? {})) this.entries.set(id, merge(id, this.lookupModel(id), override));
  }

  /** The entry for a model name (exact, alias, region-prefixed Bedrock id or dated snapshot), or undefined when unknown. */
  lookupModel(name: string): CatalogueModel | undefined {
    const exact = this.entries.get(name);
    if (exact) return exact;
    const alias = bundledAliases[name];
    if (alias !== undefined) return this.entries.get(alias);
    const withoutRegion = name.replace(bedrockRegionPrefix, '');
    if (withoutRegion !== name) return this.entries.get(withoutRegion);
    const withoutDate = name.replace(dateSuffix, '');
    if (withoutDate !== name) return this.entries.get(withoutDate);
    return undefined;
  }

  /** Cost in USD of one call's usage; cached prompt tokens at the cached price when the model has one. */
  costOf(model: string, usage: Pick<Usage, 'prompt_tokens' | 'completion_tokens' | 'prompt_tokens_details'>): number | undefined {
    const entry = this.lookupModel(model);
    if (!entry) return undefined;
    const cached = Math.min(usage.prompt_tokens, usage.prompt_tokens_details?.cached_tokens ?? 0);
    const cachedPrice = entry.cached_input_per_million ?? entry.input_per_million;
    const micro = (usage.prompt_tokens - cached) * entry.input_per_million + cached * cachedPrice + usage.completion_tokens * entry.output_per_million;
    return micro / 1_000_000;
  }

  /** Every entry, bundled and configured. */
  list(): CatalogueModel[] {
    return [...this.entries.values()];
  }
}

function merge(id: string, base: CatalogueModel | undefined, override: CatalogueOverride): CatalogueModel {
  if (!base) {
    const missing = requiredForNewModels.find((field) => override[field] === undefined);
    if (missing) throw new ConfigError(`catalogue.models.${id}.${missing}`, `required for a model the bundled catalogue does not know`);
  }
  const { capabilities, ...fields } = override;
  const merged = {
    provider: 'unknown',
    mode: 'chat' as const,
    context_window: 0,
    max_output_tokens: 0,
    input_per_million: 0,
    output_per_million: 0,
    ...(base ?? {}),
    ...fields,
    id,
    capabilities: { tools: false, vision: false, json_mode: false, ...(base?.capabilities ?? {}), ...(capabilities ?? {}) },
  };
  return merged;
}

const catalogues = new WeakMap<Config, Catalogue>();

/** The catalogue of a config, built once and shared by every module that needs it (routing, cost, /v1/models). */
export function catalogueFor(config: Config): Catalogue {
  let catalogue = catalogues.get(config);
  if (!catalogue) {
    catalogue = new Catalogue(config.catalogue);
    catalogues.set(config, catalogue);
  }
  return catalogue;
}

/** Non-standard but harmless fields for `GET /v1/models` entries: the model's limits, when the catalogue knows them. */
export function listingFields(catalogue: Catalogue | undefined, model: string): { context_window?: number; max_output_tokens?: number } {
  const entry = catalogue?.lookupModel(model);
  return entry && entry.context_window > 0 ? { context_window: entry.context_window, max_output_tokens: entry.max_output_tokens } : {};
}

const bundled = new Catalogue(undefined);

/** Looks a model up in the bundled catalogue (no config overrides); use `catalogueFor(config)` inside the gateway. */
export function lookupModel(name: string): CatalogueModel | undefined {
  return bundled.lookupModel(name);
}
