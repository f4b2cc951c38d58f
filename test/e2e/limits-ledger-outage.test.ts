// PostgreSQL unreachable mid-load: no spend record is lost. The outage is simulated without touching the shared
// server: the gateway reaches PostgreSQL through a TCP proxy in this test, which is cut (listener closed, every
// connection destroyed) and later restored. Records spool to the local file meanwhile and are replayed after.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { createTestSchema, type TestSchema } from '../accounting/postgres-for-tests.js';

class CuttableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

let schema: TestSchema | undefined;
let gateway: TestGateway | undefined;
let proxy: CuttableProxy | undefined;
after(async () => {
  await gateway?.close();
  await proxy?.cut();
  await schema?.drop();
});

async function ledgerCount(): Promise<number> {
  const result = await schema?.pool.query<{ count: string }>('SELECT COUNT(*) AS count FROM bw_spend');
  return Number(result?.rows[0]?.count ?? 0);
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${gateway?.url}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

test('PostgreSQL cut off mid-load: requests keep being served, and after it is back the ledger holds every one', { timeout: 30_000 }, async (context) => {
  schema = await createTestSchema('ledger_outage');
  if (!schema) return context.skip('PostgreSQL is not running');
  const target = new URL(schema.url);
  proxy = new CuttableProxy(target.hostname, Number(target.port || 5432));
  await proxy.open();
  target.port = String(proxy.port);
  const directory = await mkdtemp(join(tmpdir(), 'bw-ledger-outage-'));
  gateway = await startTestGateway({
    stores: { sqlite: { path: join(directory, 'breakwater.db') }, postgres: { url: target.toString(), max_connections: 4 } },
    accounting: { ledger: { store: 'postgres', flush_interval_ms: 50, batch_size: 20, retry_attempts: 2, retry_base_ms: 20, replay_interval_ms: 200 } },
    logging: { level: 'silent' },
  });
  const served = { count: 0, failed: 0 };
  let running = true;
  const worker = async () => {
    while (running) {
      const response = await postJson(`${gateway?.url}/v1/chat/completions`, { model: 'sim-fast', max_tokens: 5, messages: [{ role: 'user', content: 'ledger me' }] });
      if (response.status === 200) served.count++;
      else served.failed++;
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  // Conditions are polled (bounded) rather than waited for a fixed time: a loaded CI machine is slower, not wrong.
  const until = async (condition: () => Promise<boolean> | boolean, withinMs: number) => {
    for (const started = Date.now(); !(await condition()); ) {
      if (Date.now() - started > withinMs) return false;
      await wait(50);
    }
    return true;
  };
  assert.ok(await until(async () => (await ledgerCount()) > 0, 10_000), 'records reach PostgreSQL while it is up');
  await proxy.cut();
  const servedAtCut = served.count;
  await wait(400);
  assert.ok(await until(() => served.count > servedAtCut + 10, 10_000), 'requests are still served while the ledger store is unreachable');
  assert.ok(await until(async () => (await metric('breakwater_ledger_records_total{outcome="spooled"}')) > 0, 10_000), 'records went to the local spool');
  assert.ok(await until(async () => (await metric('breakwater_ledger_spooling')) === 1, 10_000), 'the spooling gauge is raised');
  await proxy.open();
  await wait(300);
  running = false;
  await Promise.all(workers);
  assert.equal(served.failed, 0);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await ledgerCount()) < served.count) await wait(100);
  assert.equal(await ledgerCount(), served.count, 'the ledger holds every request served, none twice');
  assert.ok((await metric('breakwater_ledger_records_total{outcome="replayed"}')) > 0, 'the spool was replayed');
  assert.ok(await until(async () => (await metric('breakwater_ledger_spooling')) === 0, 10_000), 'the spooling gauge is lowered');
});
