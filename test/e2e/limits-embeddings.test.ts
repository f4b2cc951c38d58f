// /v1/embeddings through keys, rate limits, budgets and accounting over HTTP against the simulator: the key's rpm
// answers 429 with OpenAI's rate-limit headers, each request's ledger record holds its prompt tokens and cost, and a
// spent budget refuses before any upstream call.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const master = 'master-key-for-embeddings-tests-0123456789';
// $1,000 per million input tokens: $0.001 per token, so costs are easy to read.
const pricePerToken = 0.001;

interface LedgerRow {
  request_id: string;
  key_id: string;
  model: string;
  provider: string | null;
  route: string;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  status: number;
}

/** The spend rows of one key, once `count` of them are written (the ledger writer batches). */
async function ledgerRows(databasePath: string, keyId: string, count: number): Promise<LedgerRow[]> {
  const started = Date.now();
  for (;;) {
    let rows: LedgerRow[] = [];
    try {
      const database = new Database(databasePath, { readonly: true });
      try {
        rows = database.prepare('SELECT * FROM bw_spend WHERE key_id = ? ORDER BY ts').all(keyId) as LedgerRow[];
      } finally {
        database.close();
      }
    } catch (error) {
      // The ledger's table appears with its first batch.
      if (Date.now() - started > 5_000) throw error;
    }
    if (rows.length >= count || Date.now() - started > 5_000) return rows;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('embeddings through limits, budgets and accounting', () => {
  let gateway: TestGateway;
  let databasePath: string;

  before(async () => {
    databasePath = join(await mkdtemp(join(tmpdir(), 'bw-embeddings-e2e-')), 'breakwater.db');
    gateway = await startTestGateway({
      auth: { master_key: master },
      stores: { sqlite: { path: databasePath } },
      providers: [
        { name: 'sim', type: 'sim', models: ['sim-embed'] },
        { name: 'broken', type: 'sim', models: [], faults: ['status=503'] },
      ],
      // A public name priced under none of its own: its deployments' prices apply.
      routes: [{ model: 'embed-any', candidates: [{ provider: 'broken', model: 'sim-embed-large' }, { provider: 'sim', model: 'sim-embed' }] }],
      reliability: { backoff: { base_ms: 1, cap_ms: 5 } },
      accounting: {
        prices: { 'sim-embed': { input_per_million: 1_000, output_per_million: 0 }, 'sim-embed-large': { input_per_million: 10_000, output_per_million: 0 } },
        ledger: { flush_interval_ms: 20 },
      },
    });
  });
  after(() => gateway.close());

  const createKey = async (body: Record<string, unknown>) => {
    const response = await fetch(`${gateway.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(response.status, 201);
    return (await response.json()) as { key: string; id: string };
  };
  const embed = (key: string, input: string | string[], model = 'sim-embed') => postJson(`${gateway.url}/v1/embeddings`, { model, input }, { authorization: `Bearer ${key}` });

  const keyRows = (keyId: string, count: number) => ledgerRows(databasePath, keyId, count);

  test("a key's rpm: OpenAI rate-limit headers on every answer, then 429 with Retry-After, none of it upstream", async () => {
    const created = await createKey({ rpm: 2 });
    const remaining: Array<string | null> = [];
    for (let index = 0; index < 2; index++) {
      const response = await embed(created.key, `vector ${index}`);
      assert.equal(response.status, 200, response.text);
      assert.equal(response.headers.get('x-ratelimit-limit-requests'), '2');
      assert.match(response.headers.get('x-ratelimit-reset-requests') ?? '', /^\d+(\.\d+)?s$|^\d+ms$/);
      remaining.push(response.headers.get('x-ratelimit-remaining-requests'));
    }
    assert.deepEqual(remaining, ['1', '0']);
    const before = gateway.sim().stats().embeddings;
    const limited = await embed(created.key, 'one too many');
    assert.equal(limited.status, 429);
    const error = (limited.json() as { error: { type: string; code: string } }).error;
    assert.equal(error.type, 'rate_limit_error');
    assert.equal(limited.headers.get('retry-after'), '30', '2/min refills one request every 30 s');
    assert.equal(limited.headers.get('x-ratelimit-limit-requests'), '2');
    assert.equal(limited.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.ok(limited.headers.get('x-ratelimit-reset-requests'));
    assert.equal(gateway.sim().stats().embeddings, before, 'the refused request never reached the upstream');
  });

  test('each request is in the ledger with its prompt tokens and cost, as the response reported them', async () => {
    const created = await createKey({});
    const inputs = ['the quick brown fox', ['jumps over', 'the lazy dog', 'again and again']];
    const served: Array<{ tokens: number; cost: number; requestId: string | null }> = [];
    for (const input of inputs) {
      const response = await embed(created.key, input);
      assert.equal(response.status, 200, response.text);
      const tokens = (response.json() as { usage: { prompt_tokens: number } }).usage.prompt_tokens;
      assert.ok(tokens > 0);
      served.push({ tokens, cost: Number(response.headers.get('x-breakwater-cost-usd')), requestId: response.headers.get('x-request-id') });
    }
    for (const answer of served) assert.ok(Math.abs(answer.cost - answer.tokens * pricePerToken) < 1e-12, `cost ${answer.cost} for ${answer.tokens} tokens`);
    const rows = await keyRows(created.id, served.length);
    assert.equal(rows.length, served.length);
    rows.forEach((row, index) => {
      const answer = served[index];
      assert.ok(answer);
      assert.equal(row.route, '/v1/embeddings');
      assert.equal(row.model, 'sim-embed');
      assert.equal(row.provider, 'sim');
      assert.equal(row.status, 200);
      assert.equal(row.prompt_tokens, answer.tokens);
      assert.equal(row.completion_tokens, 0);
      assert.ok(Math.abs(row.cost_usd - answer.cost) < 1e-12);
      if (answer.requestId) assert.equal(row.request_id, answer.requestId);
    });
  });

  test('a spent budget refuses before any upstream call (429 insufficient_quota), and the refusal is in the ledger', async () => {
    // ~5-token inputs cost about $0.005: the $0.012 daily budget holds two of them, not a third.
    const created = await createKey({ budgets: [{ period: 'day', cost_usd: 0.012 }] });
    const costs: number[] = [];
    let refused: Awaited<ReturnType<typeof embed>> | undefined;
    let callsBeforeRefusal = 0;
    for (let index = 0; index < 10 && !refused; index++) {
      callsBeforeRefusal = gateway.sim().stats().embeddings;
      const response = await embed(created.key, `spend some ${index} tokens`);
      if (response.status === 200) costs.push(Number(response.headers.get('x-breakwater-cost-usd')));
      else refused = response;
    }
    assert.ok(refused, 'the budget stopped the requests');
    assert.equal(refused.status, 429, refused.text);
    assert.equal((refused.json() as { error: { code: string } }).error.code, 'insufficient_quota');
    assert.equal(refused.headers.get('x-breakwater-error-code'), 'BW_ERR_BUDGET_EXCEEDED');
    assert.equal(gateway.sim().stats().embeddings, callsBeforeRefusal, 'the refused request never reached the upstream');
    const spent = costs.reduce((sum, cost) => sum + cost, 0);
    assert.ok(costs.length >= 1 && spent <= 0.012 + 1e-9, `spent ${spent} in ${costs.length} requests within the budget`);
    const rows = await keyRows(created.id, costs.length + 1);
    assert.equal(rows.length, costs.length + 1, 'the refused request is recorded too');
    assert.equal(rows.at(-1)?.status, 429);
    assert.equal(rows.at(-1)?.cost_usd, 0);
    assert.ok(Math.abs(rows.reduce((sum, row) => sum + row.cost_usd, 0) - spent) < 1e-9, 'the ledger sums the reported costs');
  });

  test('a routed model is priced by the deployment that served it, and budgets reserve its dearest deployment', async () => {
    const created = await createKey({});
    const served = await embed(created.key, 'priced by the fallback', 'embed-any');
    assert.equal(served.status, 200, served.text);
    assert.equal(served.headers.get('x-breakwater-provider'), 'sim', 'the first candidate failed; the second served');
    const tokens = (served.json() as { usage: { prompt_tokens: number } }).usage.prompt_tokens;
    const cost = Number(served.headers.get('x-breakwater-cost-usd'));
    assert.ok(Math.abs(cost - tokens * pricePerToken) < 1e-12, `cost ${cost} for ${tokens} tokens at the serving deployment's price (not $0, not the failed one's)`);
    const [row] = await keyRows(created.id, 1);
    assert.equal(row?.model, 'embed-any');
    assert.equal(row?.provider, 'sim');
    assert.ok(Math.abs((row?.cost_usd ?? 0) - cost) < 1e-12);

    // Before the route is walked the request could land on sim-embed-large ($0.01 a token): a $0.03 budget cannot
    // hold ~4-6 tokens of that, while the same input sent to sim-embed ($0.001 a token) fits.
    const budgeted = await createKey({ budgets: [{ period: 'day', cost_usd: 0.03 }] });
    const callsBefore = gateway.sim('sim').stats().embeddings + gateway.sim('broken').stats().embeddings;
    const refused = await embed(budgeted.key, 'priced by the fallback', 'embed-any');
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.headers.get('x-breakwater-error-code'), 'BW_ERR_BUDGET_EXCEEDED');
    assert.equal(gateway.sim('sim').stats().embeddings + gateway.sim('broken').stats().embeddings, callsBefore, 'refused before any upstream call');
    assert.equal((await embed(budgeted.key, 'priced by the fallback')).status, 200);
  });
});

describe('embeddings from an upstream that reports no usage', () => {
  let upstream: Server;
  let gateway: TestGateway;
  let databasePath: string;

  before(async () => {
    // An OpenAI-compatible server that answers embeddings without a `usage` object (as some self-hosted ones do).
    upstream = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ object: 'list', model: 'plain-embed', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }] }));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    databasePath = join(await mkdtemp(join(tmpdir(), 'bw-embeddings-plain-')), 'breakwater.db');
    gateway = await startTestGateway({
      auth: { master_key: master },
      stores: { sqlite: { path: databasePath } },
      providers: [{ name: 'plain', type: 'openai-compatible', base_url: `http://127.0.0.1:${port}/v1`, models: ['plain-embed'] }],
      accounting: { prices: { 'plain-embed': { input_per_million: 1_000, output_per_million: 0 } }, ledger: { flush_interval_ms: 20 } },
    });
  });
  after(async () => {
    await gateway.close();
    await new Promise((resolve) => upstream.close(resolve));
  });

  test("the request is charged the gateway's token count, in the response and the ledger", async () => {
    const response = await fetch(`${gateway.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${master}`, 'content-type': 'application/json' }, body: JSON.stringify({}) });
    const created = (await response.json()) as { key: string; id: string };
    const served = await postJson(`${gateway.url}/v1/embeddings`, { model: 'plain-embed', input: 'count these words for me please' }, { authorization: `Bearer ${created.key}` });
    assert.equal(served.status, 200, served.text);
    const cost = Number(served.headers.get('x-breakwater-cost-usd'));
    assert.ok(cost > 0, `charged ${cost}, not $0`);
    const [row] = await ledgerRows(databasePath, created.id, 1);
    assert.ok(row);
    assert.ok(row.prompt_tokens > 0, 'the ledger holds the estimated prompt tokens');
    assert.ok(Math.abs(row.cost_usd - row.prompt_tokens * pricePerToken) < 1e-12);
    assert.ok(Math.abs(row.cost_usd - cost) < 1e-12);
  });
});
