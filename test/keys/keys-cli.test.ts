// The `breakwater keys` and `breakwater spend` commands against an embedded SQLite store.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function breakwater(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { timeout: 30_000 });
}

test('keys create shows the secret once; list never does; revoke; spend prints a report', { timeout: 60_000 }, async () => {
  const directory = await mkdtemp(join(tmpdir(), 'bw-keys-cli-'));
  const config = join(directory, 'breakwater.yaml');
  await writeFile(config, `stores: { sqlite: { path: "${join(directory, 'breakwater.db')}" } }\nproviders: [{ name: sim, type: sim, models: [sim-fast] }]\n`);
  const created = await breakwater('keys', 'create', '--config', config, '--team', 'research', '--rpm', '60', '--daily-usd', '5');
  const key = JSON.parse(created.stdout) as { key: string; id: string; team: string; rpm: number; budgets: unknown[] };
  assert.match(key.key, /^bw-/);
  assert.equal(key.team, 'research');
  assert.equal(key.rpm, 60);
  assert.deepEqual(key.budgets, [{ period: 'day', cost_usd: 5 }]);
  assert.match(created.stderr, /not shown again/);
  const listed = await breakwater('keys', 'list', '--config', config);
  assert.equal(listed.stdout.includes(key.key), false);
  assert.ok(listed.stdout.includes(key.id));
  assert.match((await breakwater('keys', 'revoke', key.id, '--config', config)).stdout, /revoked/);
  assert.deepEqual(JSON.parse((await breakwater('keys', 'list', '--config', config)).stdout), []);
  const spend = await breakwater('spend', '--config', config, '--group-by', 'team');
  assert.match(spend.stdout, /TOTAL/);
});
