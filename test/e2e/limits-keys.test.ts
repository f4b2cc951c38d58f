// Virtual keys, rate limits, budgets and the spend report end to end: a real gateway over a socket, the simulator upstream.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { postJson, sseData, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const master = 'master-key-for-limits-tests-0123456789';
const chat = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'sim-fast', max_tokens: 20, messages: [{ role: 'user', content }], ...extra });

describe('keys, limits and budgets over HTTP', () => {
  let gateway: TestGateway;
  let databasePath: string;

  before(async () => {
    const directory = await mkdtemp(join(tmpdir(), 'bw-limits-e2e-'));
    databasePath = join(directory, 'breakwater.db');
    gateway = await startTestGateway({
      auth: { master_key: master },
      stores: { sqlite: { path: databasePath } },
      limits: { tiers: { free: { rpm: 3 } } },
      accounting: { prices: { 'sim-fast': { input_per_million: 1_000, output_per_million: 1_000 } }, ledger: { flush_interval_ms: 50 } },
    });
  });
  after(() => gateway.close());

  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${gateway.url}${path}`, { ...init, headers: { authorization: `Bearer ${master}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers } });
  const createKey = async (body: Record<string, unknown>) => {
    const response = await admin('/admin/keys', { method: 'POST', body: JSON.stringify(body) });
    assert.equal(response.status, 201);
    return (await response.json()) as { key: string; id: string; team: string | null };
  };
  const call = (key: string, body: unknown, headers: Record<string, string> = {}) => postJson(`${gateway.url}/v1/chat/completions`, body, { authorization: `Bearer ${key}`, ...headers });

  test('a key is shown once, stored only as a hash, works at once and is refused right after revocation', async () => {
    const created = await createKey({ name: 'ci', team: 'research', user: 'alice' });
    assert.match(created.key, /^bw-[A-Za-z0-9_-]{32}$/);
    assert.match(created.id, /^key_/);
    const listed = (await (await admin('/admin/keys')).json()) as { data: Array<Record<string, unknown>> };
    const entry = listed.data.find((key) => key.id === created.id);
    assert.ok(entry);
    assert.equal(JSON.stringify(listed).includes(created.key), false, 'the list never shows the secret');
    assert.equal('hash' in entry, false);
    const database = new Database(databasePath, { readonly: true });
    const rows = database.prepare('SELECT * FROM bw_keys').all() as Array<Record<string, unknown>>;
    database.close();
    assert.equal(JSON.stringify(rows).includes(created.key), false, 'the store holds no secret');
    assert.ok(rows.some((row) => typeof row.hash === 'string' && /^[0-9a-f]{64}$/.test(row.hash)));

    assert.equal((await call(created.key, chat('hello'))).status, 200);
    assert.equal((await call('bw-not-a-real-key-000000000000000000', chat('hello'))).status, 401);
    const revoked = await admin(`/admin/keys/${created.id}`, { method: 'DELETE' });
    assert.equal(revoked.status, 200);
    const refused = await call(created.key, chat('hello'));
    assert.equal(refused.status, 401);
    assert.equal((refused.json() as { error: { code: string } }).error.code, 'invalid_api_key');
    assert.equal((await call(created.key, chat('hello'))).status, 401);
  });

  test('the admin API wants the master key, not a virtual key', async () => {
    const created = await createKey({});
    const response = await fetch(`${gateway.url}/admin/keys`, { headers: { authorization: `Bearer ${created.key}` } });
    assert.equal(response.status, 401);
  });

  test('requests per minute (tier): OpenAI rate-limit headers on every answer, then 429 with Retry-After', async () => {
    const created = await createKey({ tier: 'free' });
    const remaining: string[] = [];
    for (let index = 0; index < 3; index++) {
      const response = await call(created.key, chat(`hi ${index}`));
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('x-ratelimit-limit-requests'), '3');
      remaining.push(response.headers.get('x-ratelimit-remaining-requests') ?? '');
      assert.match(response.headers.get('x-ratelimit-reset-requests') ?? '', /^\d+(\.\d+)?s$|^\d+ms$/);
    }
    assert.deepEqual(remaining, ['2', '1', '0']);
    const limited = await call(created.key, chat('one too many'));
    assert.equal(limited.status, 429);
    const body = limited.json() as { error: { code: string; type: string; message: string } };
    assert.equal(body.error.code, 'BW_ERR_RATE_LIMITED');
    assert.equal(body.error.type, 'rate_limit_error');
    assert.equal(limited.headers.get('retry-after'), '20', '3/min refills one request every 20 s');
    assert.equal(limited.headers.get('x-ratelimit-remaining-requests'), '0');
    const other = await createKey({ tier: 'free' });
    assert.equal((await call(other.key, chat('another key has its own bucket'))).status, 200);
  });

  test('tokens per minute: reserved from the estimate, the unused part refunded after the call', async () => {
    const created = await createKey({ tpm: 1_000 });
    const first = await call(created.key, chat('count my tokens', { max_tokens: 400 }));
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-ratelimit-limit-tokens'), '1000');
    const afterFirst = Number(first.headers.get('x-ratelimit-remaining-tokens'));
    assert.ok(afterFirst < 600, `the reservation covered prompt + max_tokens (remaining ${afterFirst})`);
    const usage = (first.json() as { usage: { total_tokens: number } }).usage;
    const second = await call(created.key, chat('count my tokens', { max_tokens: 400 }));
    assert.equal(second.status, 200);
    const afterSecond = Number(second.headers.get('x-ratelimit-remaining-tokens'));
    // Without reconciliation the second check would leave afterFirst - (reservation) ≈ 200 - 400 → refused.
    assert.ok(afterSecond >= 1_000 - usage.total_tokens - 420 - 5, `the first request's unused reservation came back (remaining ${afterSecond})`);
  });

  test('a key limited to some models is refused the others with 403', async () => {
    const created = await createKey({ models: ['sim-smart'] });
    const refused = await call(created.key, chat('hello'));
    assert.equal(refused.status, 403);
    assert.equal((refused.json() as { error: { code: string } }).error.code, 'model_not_allowed');
    assert.equal((await call(created.key, { ...chat('hello'), model: 'sim-smart' })).status, 200);
  });

  test('daily cost budget of a key: requests are refused before the upstream once the next one could overshoot', async () => {
    // sim-fast at $1,000 per million tokens: $0.001 per token; max_tokens 20 + a short prompt reserves about $0.03.
    const created = await createKey({ budgets: [{ period: 'day', cost_usd: 0.1 }] });
    const costs: number[] = [];
    let refused: Awaited<ReturnType<typeof call>> | undefined;
    for (let index = 0; index < 10 && !refused; index++) {
      const response = await call(created.key, chat(`spend ${index}`));
      if (response.status === 200) costs.push(Number(response.headers.get('x-breakwater-cost-usd')));
      else refused = response;
    }
    assert.ok(refused, 'the budget stopped the requests');
    assert.equal(refused.status, 429);
    const body = refused.json() as { error: { code: string; type: string } };
    assert.equal(body.error.code, 'insufficient_quota');
    assert.equal(refused.headers.get('x-breakwater-error-code'), 'BW_ERR_BUDGET_EXCEEDED');
    assert.ok(Number(refused.headers.get('retry-after')) > 0, 'retry after the day ends');
    const spent = costs.reduce((sum, cost) => sum + cost, 0);
    assert.ok(costs.length >= 2 && spent <= 0.1 + 1e-9, `spent ${spent} in ${costs.length} requests within the $0.10 budget`);
    const report = (await (await admin('/admin/spend?group_by=key')).json()) as { data: Array<{ group: string; cost_usd: number; requests: number }> };
    const row = report.data.find((entry) => entry.group === created.id);
    assert.ok(row);
    assert.equal(row.requests, costs.length + 1, 'the refused request is in the ledger too');
    assert.ok(Math.abs(row.cost_usd - spent) < 1e-9, 'the ledger sums exactly the costs the responses reported');
  });

  test('a stream holds its concurrency slot until it ends, and its usage is reconciled', async () => {
    const created = await createKey({ concurrency: 1 });
    const slow = fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.key}`, 'content-type': 'application/json', 'x-sim-latency': 'ttft=0;token=30' },
      body: JSON.stringify(chat('a slow story', { stream: true, max_tokens: 10 })),
    });
    const streaming = await slow;
    assert.equal(streaming.status, 200);
    const busy = await call(created.key, chat('while streaming'));
    assert.equal(busy.status, 429);
    assert.match((busy.json() as { error: { message: string } }).error.message, /concurrent/);
    const events = sseData(await streaming.text());
    assert.equal(events.at(-1), '[DONE]');
    assert.equal((await call(created.key, chat('after the stream'))).status, 200);
  });

  test('spend per user and per session through the same report', async () => {
    const created = await createKey({ team: 'growth' });
    await call(created.key, chat('one', { user: 'user-one' }), { 'x-breakwater-session': 'session-a' });
    await call(created.key, chat('two'), { 'x-breakwater-user': 'user-two', 'x-breakwater-session': 'session-a' });
    await call(created.key, chat('three', { user: 'user-one' }), { 'x-breakwater-session': 'session-b' });
    const report = async (groupBy: string) => ((await (await admin(`/admin/spend?group_by=${groupBy}`)).json()) as { data: Array<{ group: string | null; requests: number; cost_usd: number }> }).data;
    const users = await report('user');
    assert.equal(users.find((row) => row.group === 'user-one')?.requests, 2);
    assert.equal(users.find((row) => row.group === 'user-two')?.requests, 1);
    const sessions = await report('session');
    assert.equal(sessions.find((row) => row.group === 'session-a')?.requests, 2);
    assert.ok((sessions.find((row) => row.group === 'session-a')?.cost_usd ?? 0) > 0);
    const teams = await report('team');
    assert.equal(teams.find((row) => row.group === 'growth')?.requests, 3);
    const bad = await admin('/admin/spend?group_by=colour');
    assert.equal(bad.status, 400);
  });
});
