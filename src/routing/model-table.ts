// Resolves a public model name to the provider that serves it and the model name to send upstream.
import type { Config } from '../config/schema.js';
import type { ProviderAdapter } from '../providers/types.js';

export interface Target {
  provider: ProviderAdapter;
  upstreamModel: string;
  /** The public name, as listed by /v1/models (or as sent, for pass-through models). */
  model: string;
}

export interface ListedModel {
  id: string;
  ownedBy: string;
}

export class ModelTable {
  private readonly targets = new Map<string, Target>();
  private readonly passthrough: ProviderAdapter | undefined;

  constructor(config: Config, providers: ReadonlyMap<string, ProviderAdapter>) {
    let passthrough: ProviderAdapter | undefined;
    for (const entry of config.providers) {
      const provider = providers.get(entry.name);
      if (!provider) continue;
      if (entry.passthrough) passthrough = provider;
      for (const model of entry.models) {
        const publicName = typeof model === 'string' ? model : model.name;
        const upstreamModel = typeof model === 'string' ? model : model.model;
        this.targets.set(publicName, { provider, upstreamModel, model: publicName });
      }
    }
    this.passthrough = passthrough;
  }

  resolve(model: string): Target | undefined {
    const found = this.targets.get(model);
    if (found) return found;
    return this.passthrough ? { provider: this.passthrough, upstreamModel: model, model } : undefined;
  }

  /** Whether `model` is one the config names (bounded, so safe as a metric label). */
  isListed(model: string): boolean {
    return this.targets.has(model);
  }

  list(): ListedModel[] {
    return [...this.targets.values()].map((target) => ({ id: target.model, ownedBy: target.provider.name }));
  }
}
