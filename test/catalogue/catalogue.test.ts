// The model catalogue: bundled entries, lookups by alias / snapshot / Bedrock region prefix, config overrides, cost.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalogue, catalogueFor, lookupModel } from '../../src/catalogue/catalogue.js';
import { validateConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/config-error.js';

test('bundled entries carry provider, limits, prices and capabilities', () => {
  const model = lookupModel('gpt-4o-mini');
  assert.equal(model?.provider, 'openai');
  assert.equal(model?.context_window, 128_000);
  assert.equal(model?.capabilities.tools, true);
  assert.ok((model?.input_per_million ?? 0) > 0 && (model?.output_per_million ?? 0) > (model?.input_per_million ?? 0));
  assert.equal(lookupModel('claude-3-5-sonnet-20241022')?.provider, 'anthropic');
  assert.equal(lookupModel('gemini-2.5-pro')?.provider, 'google');
  assert.equal(lookupModel('amazon.titan-embed-text-v2:0')?.mode, 'embeddings');
  assert.equal(lookupModel('sim-fast')?.provider, 'sim');
  assert.equal(lookupModel('no-such-model'), undefined);
});

test('aliases, dated snapshots and cross-region Bedrock ids resolve to their base entry', () => {
  assert.equal(lookupModel('claude-3-5-sonnet-latest')?.id, 'claude-3-5-sonnet-20241022');
  assert.equal(lookupModel('gpt-4o-2024-08-06')?.id, 'gpt-4o');
  assert.equal(lookupModel('us.anthropic.claude-3-5-haiku-20241022-v1:0')?.id, 'anthropic.claude-3-5-haiku-20241022-v1:0');
  assert.equal(lookupModel('gpt-4o-2099-01-01-extra'), undefined);
});

test('config overrides merge over the bundled entry; new models need their essentials', () => {
  const catalogue = new Catalogue({
    models: {
      'gpt-4o': { input_per_million: 1, capabilities: { vision: false } },
      'my-llama': { provider: 'local', context_window: 131_072, max_output_tokens: 8_192, input_per_million: 0, output_per_million: 0, capabilities: { tools: true } },
    },
  });
  const gpt = catalogue.lookupModel('gpt-4o');
  assert.equal(gpt?.input_per_million, 1);
  assert.equal(gpt?.output_per_million, lookupModel('gpt-4o')?.output_per_million, 'untouched fields stay bundled');
  assert.deepEqual(gpt?.capabilities, { tools: true, vision: false, json_mode: true });
  assert.equal(catalogue.lookupModel('gpt-4o-2024-08-06')?.input_per_million, 1, 'snapshots follow the override');
  assert.deepEqual(catalogue.lookupModel('my-llama')?.capabilities, { tools: true, vision: false, json_mode: false });
  assert.equal(lookupModel('gpt-4o')?.input_per_million, 2.5, 'the bundled table itself is not modified');
  assert.throws(() => new Catalogue({ models: { 'mystery-model': { input_per_million: 1 } } }), (error: unknown) => error instanceof ConfigError && /catalogue\.models\.mystery-model\.provider/.test(error.message));
});

test('cost of a call: cached prompt tokens at the cached price', () => {
  const catalogue = new Catalogue(undefined);
  // sim-fast: 0.5 in, 0.25 cached, 1.5 out per million.
  const cost = catalogue.costOf('sim-fast', { prompt_tokens: 1_000_000, completion_tokens: 2_000_000, prompt_tokens_details: { cached_tokens: 400_000 } });
  assert.ok(cost !== undefined && Math.abs(cost - (0.6 * 0.5 + 0.4 * 0.25 + 2 * 1.5)) < 1e-9, String(cost));
  assert.equal(catalogue.costOf('unknown', { prompt_tokens: 1, completion_tokens: 1 }), undefined);
});

test('the config section is validated and one catalogue is shared per config', () => {
  const config = validateConfig({ providers: [{ name: 'sim', type: 'sim' }], catalogue: { models: { 'sim-fast': { context_window: 4096 } } } });
  assert.equal(catalogueFor(config), catalogueFor(config));
  assert.equal(catalogueFor(config).lookupModel('sim-fast')?.context_window, 4096);
  assert.throws(() => validateConfig({ providers: [{ name: 'sim', type: 'sim' }], catalogue: { models: { x: { context_window: -1 } } } }), /catalogue/);
  assert.throws(() => validateConfig({ providers: [{ name: 'sim', type: 'sim' }], catalogue: { models: { x: { price: 1 } } } }), /catalogue/);
});
