// Resolves a public model name to its route: the ordered candidates (provider deployments) that may serve it.
import { catalogueFor } from '../catalogue/catalogue.js';
import type { Config } from '../config/schema.js';
import type { ProviderAdapter } from '../providers/types.js';

export interface Candidate {
  provider: ProviderAdapter;
  /** Model name sent upstream. */
  upstreamModel: string;
  weight: number;
  /** Lower tiers are tried first; candidates of one tier share traffic by weight. */
  tier: number;
  contextWindow?: number;
  /** This deployment's quota (requests / tokens per minute), counted across routes and replicas. */
  rpm?: number;
  tpm?: number;
}

export interface Route {
  /** The public name, as listed by /v1/models (or as sent, for pass-through models). */
  model: string;
  candidates: Candidate[];
}

export interface ListedModel {
  id: string;
  ownedBy: string;
}

type Quota = Pick<Candidate, 'rpm' | 'tpm'>;

function quotaOf(entry: { rpm?: number | undefined; tpm?: number | undefined }): Quota {
  return { ...(entry.rpm !== undefined ? { rpm: entry.rpm } : {}), ...(entry.tpm !== undefined ? { tpm: entry.tpm } : {}) };
}

export class ModelTable {
  private readonly routes = new Map<string, Route>();
  private readonly passthrough: ProviderAdapter | undefined;

  constructor(config: Config, providers: ReadonlyMap<string, ProviderAdapter>) {
    const catalogue = catalogueFor(config);
    // A candidate's context window: as configured, else the catalogue's (for context-length fallbacks).
    const windowOf = (model: string, configured?: number) => {
      const known = configured ?? catalogue.lookupModel(model)?.context_window;
      return known !== undefined && known > 0 ? { contextWindow: known } : {};
    };
    // A deployment's quota: as the route candidate says, else as its provider's model entry says.
    const providerQuotas = new Map<string, Quota>();
    let passthrough: ProviderAdapter | undefined;
    for (const entry of config.providers) {
      const provider = providers.get(entry.name);
      if (!provider) continue;
      if (entry.passthrough) passthrough = provider;
      for (const model of entry.models) {
        const publicName = typeof model === 'string' ? model : model.name;
        const upstreamModel = typeof model === 'string' ? model : model.model;
        const quota = typeof model === 'string' ? {} : quotaOf(model);
        if (quota.rpm !== undefined || quota.tpm !== undefined) providerQuotas.set(`${entry.name}/${upstreamModel}`, quota);
        this.routes.set(publicName, { model: publicName, candidates: [{ provider, upstreamModel, weight: 1, tier: 0, ...windowOf(upstreamModel), ...quota }] });
      }
    }
    for (const route of config.routes) {
      const candidates: Candidate[] = [];
      route.candidates.forEach((candidate, index) => {
        const provider = providers.get(candidate.provider);
        if (!provider) return;
        candidates.push({
          provider,
          upstreamModel: candidate.model,
          weight: candidate.weight,
          tier: candidate.tier ?? index,
          ...windowOf(candidate.model, candidate.context_window),
          ...(candidate.rpm !== undefined || candidate.tpm !== undefined ? quotaOf(candidate) : providerQuotas.get(`${candidate.provider}/${candidate.model}`)),
        });
      });
      this.routes.set(route.model, { model: route.model, candidates });
    }
    this.passthrough = passthrough;
  }

  resolve(model: string): Route | undefined {
    const found = this.routes.get(model);
    if (found) return found;
    return this.passthrough ? { model, candidates: [{ provider: this.passthrough, upstreamModel: model, weight: 1, tier: 0 }] } : undefined;
  }

  /** Whether `model` is one the config names (bounded, so safe as a metric label). */
  isListed(model: string): boolean {
    return this.routes.has(model);
  }

  /** Every configured deployment as `provider/model` (pass-through models excluded). */
  deployments(): string[] {
    const ids = new Set<string>();
    for (const route of this.routes.values()) for (const candidate of route.candidates) ids.add(`${candidate.provider.name}/${candidate.upstreamModel}`);
    return [...ids];
  }

  /** Every configured deployment with an rpm or tpm quota, as `provider/model`. */
  limitedDeployments(): string[] {
    const ids = new Set<string>();
    for (const route of this.routes.values()) {
      for (const candidate of route.candidates) if (candidate.rpm !== undefined || candidate.tpm !== undefined) ids.add(`${candidate.provider.name}/${candidate.upstreamModel}`);
    }
    return [...ids];
  }

  list(): ListedModel[] {
    return [...this.routes.values()].map((route) => ({ id: route.model, ownedBy: route.candidates[0]?.provider.name ?? 'breakwater' }));
  }
}
