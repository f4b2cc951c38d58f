// Alerts fire exactly once per threshold per period — also when several replicas cross it at the same moment — and
// reach the log and the webhook (retried; dead-lettered when it stays down).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { AlertCenter } from '../../src/accounting/alert-center.js';
import { PostgresAlertClaims, RedisAlertClaims, SqliteAlertClaims, type AlertClaims } from '../../src/accounting/alert-claims.js';
import { AnomalyDetector } from '../../src/accounting/anomaly-detector.js';
import type { SpendLedger } from '../../src/accounting/spend-ledger.js';
import { WebhookDelivery } from '../../src/accounting/webhook-delivery.js';
import { BudgetPolicy, type BudgetCrossing } from '../../src/limits/budget-policy.js';
import { MemoryBudgetStore } from '../../src/limits/memory-budget-store.js';
import type { PipelineContext } from '../../src/pipeline/context.js';
import { openSqlite } from '../../src/store/sqlite.js';
import { connectTestRedis } from '../limits/redis-for-tests.js';
import { createTestSchema, type TestSchema } from './postgres-for-tests.js';

const clients: Redis[] = [];
const schemas: TestSchema[] = [];
after(async () => {
  for (const client of clients) client.disconnect();
  for (const schema of schemas) await schema.drop();
});

function captureLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        callback();
      },
    }),
  );
  return { logger, lines };
}

const crossing = (threshold: number): BudgetCrossing => ({ scope: 'key', subject: 'key_1', period: 'day', periodId: '2025-03-14', unit: 'usd', threshold, spent: threshold, limit: 1 });

async function claimBackends(): Promise<Array<{ name: string; replicas: AlertClaims[] }>> {
  const backends: Array<{ name: string; replicas: AlertClaims[] }> = [];
  const sqlite = openSqlite(':memory:');
  backends.push({ name: 'sqlite', replicas: [new SqliteAlertClaims(sqlite), new SqliteAlertClaims(sqlite), new SqliteAlertClaims(sqlite)] });
  const prefix = `bw-test-alerts-${randomUUID()}:`;
  const redis = await Promise.all([connectTestRedis(), connectTestRedis(), connectTestRedis()]);
  if (redis.every((client) => client !== undefined)) {
    clients.push(...(redis as Redis[]));
    backends.push({ name: 'redis', replicas: (redis as Redis[]).map((client) => new RedisAlertClaims(client, prefix)) });
  }
  const schema = await createTestSchema('alerts');
  if (schema) {
    schemas.push(schema);
    backends.push({ name: 'postgres', replicas: [new PostgresAlertClaims(schema.pool), new PostgresAlertClaims(schema.pool), new PostgresAlertClaims(schema.pool)] });
  }
  return backends;
}

test('thresholds crossed concurrently on three replicas raise each alert exactly once (SQLite, Redis, PostgreSQL claims)', async () => {
  for (const backend of await claimBackends()) {
    const { logger, lines } = captureLogger();
    const replicas = backend.replicas.map((claims, index) => new AlertCenter(claims, logger, undefined, 1_000 + index));
    const raised = await Promise.all(
      [0.5, 0.8, 1].flatMap((threshold) =>
        replicas.flatMap((replica) => [1, 2].map(() => replica.raise({ kind: 'budget', scope: 'key', subject: 'key_1', period: '2025-03-14', threshold, message: `${threshold}` }, `budget:key:key_1:2025-03-14:usd:${threshold}`))),
      ),
    );
    assert.equal(raised.filter(Boolean).length, 3, `${backend.name}: one alert per threshold`);
    assert.equal(lines.filter((line) => line.alert !== undefined).length, 3, `${backend.name}: three log lines`);
    const again = await replicas[0]?.raise({ kind: 'budget', scope: 'key', subject: 'key_1', period: '2025-03-15', threshold: 0.5, message: 'next day' }, 'budget:key:key_1:2025-03-15:usd:0.5');
    assert.equal(again, true, `${backend.name}: a new period alerts again`);
  }
});

test('budget settlement crosses 50/80/100 % in order; each is reported once', async () => {
  const store = new MemoryBudgetStore();
  const crossings: BudgetCrossing[] = [];
  const policy = new BudgetPolicy(store, { timezone: 'UTC', rules: [{ scope: 'key', period: 'day', cost_usd: 1 }] }, undefined, [0.5, 0.8, 1], (seen) => crossings.push(seen), 0, () => undefined);
  const context = { principal: { keyId: 'key_a' }, clientHeaders: {}, responseHeaders: {} } as unknown as PipelineContext;
  for (const cost of [0.3, 0.3, 0.1, 0.15, 0.15]) {
    const reservation = await policy.reserve(context, { costUsd: cost, tokens: 10 });
    await reservation.settle({ costUsd: cost, tokens: 10 });
  }
  assert.deepEqual(
    crossings.map((seen) => seen.threshold),
    [0.5, 0.8, 1],
  );
  await assert.rejects(policy.reserve(context, { costUsd: 0.01, tokens: 1 }), /used up/);
  assert.equal(crossings.length, 4, 'a refusal reports the 100 % threshold too (the alert center claims it once)');
});

test('webhook: retried until it answers 2xx; a webhook that stays down leaves a dead-letter record', async () => {
  let failuresLeft = 2;
  const received: unknown[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (failuresLeft > 0) {
        failuresLeft--;
        response.writeHead(503).end();
        return;
      }
      received.push(JSON.parse(body));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const directory = await mkdtemp(join(tmpdir(), 'bw-alerts-'));
  const deadLetterPath = join(directory, 'dead.jsonl');
  const delivery = new WebhookDelivery({ url: `http://127.0.0.1:${port}/hook`, timeoutMs: 1_000, attempts: 3, backoffMs: 1, deadLetterPath, gatewayId: 0 });
  const { logger, lines } = captureLogger();
  const center = new AlertCenter(new SqliteAlertClaims(openSqlite(':memory:')), logger, delivery, 0);
  center.budgetCrossed(crossing(0.8));
  await new Promise((resolve) => setTimeout(resolve, 50));
  await delivery.settle();
  assert.equal(received.length, 1, 'delivered on the third attempt');
  assert.match(JSON.stringify(received[0]), /80% of the daily budget/);
  assert.equal(lines.filter((line) => line.alert !== undefined).length, 1);

  failuresLeft = 100;
  await delivery.deliver({ type: 'breakwater.budget_alert', message: 'lost?' });
  const dead = (await readFile(deadLetterPath, 'utf8')).trim().split('\n');
  assert.equal(dead.length, 1);
  assert.match(dead[0] ?? '', /lost\?/);
  assert.match(dead[0] ?? '', /HTTP 503/);
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('cost anomaly: today spending at twice the trailing 7-day rate raises one alert per day', async () => {
  const now = Date.UTC(2025, 2, 14, 12);
  const totals = (today: number, trailing: number): SpendLedger =>
    ({
      total: async (range: { from: number }) => ({ requests: 1, promptTokens: 0, completionTokens: 0, costUsd: range.from === Date.UTC(2025, 2, 14) ? today : trailing }),
    }) as unknown as SpendLedger;
  const { logger } = captureLogger();
  const center = new AlertCenter(new SqliteAlertClaims(openSqlite(':memory:')), logger, undefined, 0);
  // 7 days at $168 → $1/h; today $30 in 12 h → $2.5/h.
  const spiking = new AnomalyDetector(totals(30, 168), center, { ratio: 2, minSpendUsd: 1, timeZone: 'UTC', clock: () => now });
  const reading = await spiking.check();
  assert.equal(reading.anomalous, true);
  assert.equal(reading.trailingRatePerHour, 1);
  assert.equal(reading.todayRatePerHour, 2.5);
  const calm = new AnomalyDetector(totals(18, 168), center, { ratio: 2, minSpendUsd: 1, timeZone: 'UTC', clock: () => now });
  assert.equal((await calm.check()).anomalous, false, '$1.5/h is under 2×');
});
