// End to end with real virtual keys: keys of one team share cached answers; another team never gets them,
// neither exactly nor semantically; the admin API purges one tenant only.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const master = 'master-key-for-cache-tenants-0123456789';

describe('cache tenants with virtual keys', () => {
  let gateway: TestGateway;
  const keys: Record<string, string> = {};
  before(async () => {
    const directory = await mkdtemp(join(tmpdir(), 'bw-cache-tenants-'));
    gateway = await startTestGateway({ auth: { master_key: master }, stores: { sqlite: { path: join(directory, 'breakwater.db') } }, cache: { enabled: true, semantic: { enabled: true } } });
    await gateway.gateway.cache?.cache.ready;
    for (const [name, team] of [['a1', 'team-a'], ['a2', 'team-a'], ['b1', 'team-b']] as const) {
      const response = await fetch(`${gateway.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, team }) });
      assert.equal(response.status, 201);
      keys[name] = ((await response.json()) as { key: string }).key;
    }
  });
  after(() => gateway.close());

  const ask = (key: string | undefined, content: string) =>
    postJson(`${gateway.url}/v1/chat/completions`, { model: 'sim-fast', temperature: 0, messages: [{ role: 'user', content }] }, { authorization: `Bearer ${key}` });

  it('shares within a team and never across teams, exact or semantic', async () => {
    const upstreamBefore = gateway.sim().stats().chat;
    assert.equal((await ask(keys.a1, 'How do I export contacts from my phone?')).headers.get('x-breakwater-cache'), 'miss');
    assert.equal((await ask(keys.a2, 'How do I export contacts from my phone?')).headers.get('x-breakwater-cache'), 'hit', 'same team, other key');
    assert.equal((await ask(keys.b1, 'How do I export contacts from my phone?')).headers.get('x-breakwater-cache'), 'miss', 'other team: exact');
    assert.equal((await ask(keys.a2, 'How do I export my phone contacts?')).headers.get('x-breakwater-cache'), 'semantic-hit');
    // A question only team A asked: team B's paraphrase of it must not be served team A's answer.
    assert.equal((await ask(keys.a1, 'How do I rename a file in Linux?')).headers.get('x-breakwater-cache'), 'miss');
    assert.equal((await ask(keys.a2, 'How do I rename files in Linux?')).headers.get('x-breakwater-cache'), 'semantic-hit');
    assert.equal((await ask(keys.b1, 'How do I rename files in Linux?')).headers.get('x-breakwater-cache'), 'miss', 'other team: semantic');
    assert.equal(gateway.sim().stats().chat - upstreamBefore, 4);
  });

  it('purges one tenant only', async () => {
    await ask(keys.a1, 'Tenant purge question');
    await ask(keys.b1, 'Tenant purge question');
    const purge = await fetch(`${gateway.url}/admin/cache?tenant=team-a`, { method: 'DELETE', headers: { authorization: `Bearer ${master}` } });
    assert.equal(purge.status, 200);
    assert.equal((await ask(keys.a1, 'Tenant purge question')).headers.get('x-breakwater-cache'), 'miss');
    assert.equal((await ask(keys.b1, 'Tenant purge question')).headers.get('x-breakwater-cache'), 'hit');
  });

  it('keeps the cache admin API to the master key', async () => {
    const response = await fetch(`${gateway.url}/admin/cache`, { headers: { authorization: `Bearer ${keys.a1}` } });
    assert.equal(response.status, 401);
  });
});
