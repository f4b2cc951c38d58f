import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfig, validateConfig } from '../../src/config/load.js';
import { maskSecrets } from '../../src/config/mask.js';

async function writeConfig(text: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'bw-config-'));
  const path = join(directory, 'breakwater.yaml');
  await writeFile(path, text);
  return path;
}

test('a missing required field is named precisely', () => {
  assert.throws(
    () => validateConfig({ providers: [{ name: 'sim', type: 'sim' }, { name: 'openai', type: 'openai' }] }),
    (error: unknown) => error instanceof ConfigError && error.message.includes('providers[1].api_key: required'),
  );
});

test('schema errors carry the path of the field', () => {
  assert.throws(
    () => validateConfig({ server: { port: 'eighty' }, providers: [{ name: 'sim', type: 'sim' }] }),
    (error: unknown) => error instanceof ConfigError && /server\.port: /.test(error.message),
  );
  assert.throws(
    () => validateConfig({ providers: [{ name: 'x', type: 'openai-compatible' }] }),
    (error: unknown) => error instanceof ConfigError && error.message.includes('providers[0].base_url: required'),
  );
  assert.throws(() => validateConfig({ providers: [{ name: 'sim', type: 'sim' }], surprise: 1 }), ConfigError);
});

test('${ENV} is interpolated from the environment, with defaults, and a missing variable is an error naming the field', async () => {
  const path = await writeConfig(
    ['providers:', '  - name: openai', '    type: openai', '    api_key: ${TEST_OPENAI_KEY}', '    base_url: ${TEST_BASE:-http://127.0.0.1:9/v1}', '    models: [gpt-4o-mini]'].join('\n'),
  );
  const { config } = await loadConfig({ path, environment: { TEST_OPENAI_KEY: 'sk-test-1234' } });
  assert.equal(config.providers[0]?.api_key, 'sk-test-1234');
  assert.equal(config.providers[0]?.base_url, 'http://127.0.0.1:9/v1');
  await assert.rejects(loadConfig({ path, environment: {} }), (error: unknown) => error instanceof ConfigError && error.message.includes('providers[0].api_key: environment variable TEST_OPENAI_KEY is not set'));
});

test('with no file, the embedded defaults serve the simulator and honour OPENAI_BASE_URL like the SDK', async () => {
  const bare = await loadConfig({ environment: { BREAKWATER_CONFIG: '' } as NodeJS.ProcessEnv, path: undefined });
  assert.equal(bare.source, 'embedded defaults');
  assert.deepEqual(bare.config.providers.map((provider) => provider.name), ['sim']);
  assert.equal(bare.config.server.host, '127.0.0.1');
  assert.equal(bare.config.server.port, 8080);
  const compatible = await loadConfig({ environment: { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', PORT: '9090' } });
  const openai = compatible.config.providers.find((provider) => provider.name === 'openai');
  assert.equal(openai?.type, 'openai-compatible');
  assert.equal(openai?.passthrough, true);
  assert.equal(compatible.config.server.port, 9090);
  const keyed = await loadConfig({ environment: { OPENAI_API_KEY: 'sk-abc' }, port: 7000, host: 'localhost' });
  assert.equal(keyed.config.providers.find((provider) => provider.name === 'openai')?.type, 'openai');
  assert.equal(keyed.config.server.port, 7000);
  assert.equal(keyed.config.server.host, 'localhost');
});

test('defaults are filled in and secrets are masked when printed', () => {
  const config = validateConfig({ auth: { master_key: 'a-very-secret-master-key' }, providers: [{ name: 'o', type: 'openai', api_key: 'sk-secret', headers: { authorization: 'x' } }] });
  assert.equal(config.server.body_limit_bytes, 4 * 1024 * 1024);
  assert.equal(config.server.drain_seconds, 25);
  assert.equal(config.providers[0]?.timeouts.first_byte_ms, 60_000);
  const printed = JSON.stringify(maskSecrets(config));
  assert.ok(!printed.includes('sk-secret'));
  assert.ok(!printed.includes('a-very-secret-master-key'));
  assert.ok(printed.includes('********'));
});

test('a model served by two providers and two pass-through providers are refused', () => {
  assert.throws(
    () => validateConfig({ providers: [{ name: 'a', type: 'sim', models: ['m'] }, { name: 'b', type: 'sim', models: ['m'] }] }),
    /providers\[1\]\.models\[0\]: model "m" is already served by provider a/,
  );
  assert.throws(
    () => validateConfig({ providers: [{ name: 'a', type: 'sim', passthrough: true }, { name: 'b', type: 'sim', passthrough: true }] }),
    /providers\[1\]\.passthrough/,
  );
});
