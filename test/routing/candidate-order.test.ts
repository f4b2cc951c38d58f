import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProviderAdapter } from '../../src/providers/types.js';
import { orderCandidates } from '../../src/routing/candidate-order.js';
import type { Candidate } from '../../src/routing/model-table.js';

const provider = (name: string) => ({ name }) as unknown as ProviderAdapter;
const candidate = (name: string, tier: number, weight = 1): Candidate => ({ provider: provider(name), upstreamModel: 'm', tier, weight });

/** A deterministic pseudo-random sequence, so the distribution check cannot flake. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

test('tiers are tried in order; every candidate stays in the list as a fallback', () => {
  const order = orderCandidates([candidate('c', 2), candidate('a', 0), candidate('b', 1)]);
  assert.deepEqual(order.map((entry) => entry.provider.name), ['a', 'b', 'c']);
});

test('within a tier, first picks follow the weights (3:1)', () => {
  const random = seeded(42);
  const counts: Record<string, number> = { heavy: 0, light: 0 };
  for (let index = 0; index < 4_000; index++) {
    const order = orderCandidates([candidate('heavy', 0, 3), candidate('light', 0, 1), candidate('backup', 1)], random);
    counts[order[0]?.provider.name ?? '']!++;
    assert.equal(order[2]?.provider.name, 'backup');
    assert.equal(order.length, 3);
  }
  const share = (counts.heavy ?? 0) / 4_000;
  assert.ok(share > 0.7 && share < 0.8, `heavy served first ${(share * 100).toFixed(1)} % of the time; expected about 75 %`);
});

test('a zero weight is never picked first while another candidate of its tier has weight', () => {
  const random = seeded(7);
  for (let index = 0; index < 200; index++) {
    const order = orderCandidates([candidate('drained', 0, 0), candidate('live', 0, 1)], random);
    assert.equal(order[0]?.provider.name, 'live');
  }
});

test('candidates take their context window from the catalogue unless the route sets one', async () => {
  const { validateConfig } = await import('../../src/config/load.js');
  const { ModelTable } = await import('../../src/routing/model-table.js');
  const config = validateConfig({
    providers: [{ name: 'openai', type: 'openai', api_key: 'test-key-not-real' }],
    routes: [{ model: 'smart', candidates: [{ provider: 'openai', model: 'gpt-4o-mini' }, { provider: 'openai', model: 'gpt-4o', context_window: 64_000 }, { provider: 'openai', model: 'made-up-model' }] }],
  });
  const table = new ModelTable(config, new Map([['openai', provider('openai')]]));
  const windows = table.resolve('smart')?.candidates.map((candidate) => candidate.contextWindow);
  assert.equal(windows?.[0], 128_000, 'gpt-4o-mini from the bundled catalogue');
  assert.equal(windows?.[1], 64_000, 'the route overrides it');
  assert.equal(windows?.[2], undefined, 'unknown models have none');
});
