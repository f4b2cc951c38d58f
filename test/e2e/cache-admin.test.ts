// End to end: the cache admin API (master key only) and the `breakwater cache` command against a live gateway.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { TestGateway } from '../helpers/gateway.js';
import { chat, chatBody, startCacheGateway } from '../cache/cache-gateway.js';

const masterKey = 'test-master-key-0123456789';
const auth = { authorization: `Bearer ${masterKey}` };

describe('cache admin API and CLI', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startCacheGateway({ store: 'memory' }, { auth: { master_key: masterKey } });
  });
  after(() => gateway.close());

  it('refuses callers without the master key', async () => {
    const response = await fetch(`${gateway.url}/admin/cache`);
    assert.equal(response.status, 401);
  });

  it('purges one entry by its key, leaving the others', async () => {
    const first = await chat(gateway, chatBody('purge one'), auth);
    await chat(gateway, chatBody('keep me'), auth);
    const key = first.headers.get('x-breakwater-cache-key');
    assert.ok(key);
    const purge = await fetch(`${gateway.url}/admin/cache?key=${encodeURIComponent(key)}`, { method: 'DELETE', headers: auth });
    assert.deepEqual(((await purge.json()) as { purged: { memory: number } }).purged.memory, 1);
    assert.equal((await chat(gateway, chatBody('purge one'), auth)).headers.get('x-breakwater-cache'), 'miss');
    assert.equal((await chat(gateway, chatBody('keep me'), auth)).headers.get('x-breakwater-cache'), 'hit');
  });

  it('asks for a filter before purging everything', async () => {
    const response = await fetch(`${gateway.url}/admin/cache`, { method: 'DELETE', headers: auth });
    assert.equal(response.status, 400);
  });

  it('breakwater cache stats / purge talk to the admin API', async () => {
    const run = promisify(execFile);
    const environment = { ...process.env, BREAKWATER_MASTER_KEY: masterKey };
    const stats = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'cache', 'stats', '--url', gateway.url], { env: environment, timeout: 30_000 });
    assert.ok((JSON.parse(stats.stdout) as { memory: { entries: number } }).memory.entries >= 1);
    const purge = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'cache', 'purge', '--namespace', 'default', '--url', gateway.url], { env: environment, timeout: 30_000 });
    assert.ok((JSON.parse(purge.stdout) as { purged: { memory: number } }).purged.memory >= 1);
    assert.equal((await chat(gateway, chatBody('keep me'), auth)).headers.get('x-breakwater-cache'), 'miss');
  });
});
