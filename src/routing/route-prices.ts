// Prices for public model names that differ from what is sent upstream (aliases, routes): a public name costs what
// its most expensive deployment costs, so budgets reserve the worst case before the route is walked and a request is
// never priced at $0 for want of a price under its public name.
import type { ModelPrice, PriceSource } from '../accounting/prices.js';
import type { Config } from '../config/schema.js';

export function routePrices(config: Config, prices: PriceSource): PriceSource {
  const upstreams = new Map<string, Set<string>>();
  const add = (publicName: string, upstreamModel: string) => {
    if (publicName === upstreamModel) return;
    const known = upstreams.get(publicName) ?? new Set<string>();
    known.add(upstreamModel);
    upstreams.set(publicName, known);
  };
  for (const provider of config.providers) for (const model of provider.models) if (typeof model !== 'string') add(model.name, model.model);
  for (const route of config.routes) for (const candidate of route.candidates) add(route.model, candidate.model);
  return {
    priceOf(model) {
      let dearest: ModelPrice | undefined;
      for (const upstreamModel of upstreams.get(model) ?? []) {
        const price = prices.priceOf(upstreamModel);
        if (price && (!dearest || price.inputPerMillion + price.outputPerMillion > dearest.inputPerMillion + dearest.outputPerMillion)) dearest = price;
      }
      return dearest;
    },
  };
}
