// Test helper: a real gateway listening on a loopback port, with the in-process simulator as upstream and logs captured.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { SimAdapter } from '../../src/providers/sim/index.js';
import { Gateway } from '../../src/server/gateway.js';
import type { SimServer } from '../../src/sim/index.js';

export interface TestGateway {
  gateway: Gateway;
  url: string;
  logs: string[];
  config: Config;
  /** The in-process simulator behind a `sim` provider, by provider name. */
  sim(name?: string): SimServer;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /** Runs after the gateway is built and before it listens (e.g. to add a test-only hook). */
  beforeListen?: (gateway: Gateway) => void;
}

export async function startTestGateway(raw: Record<string, unknown> = {}, options: TestGatewayOptions = {}): Promise<TestGateway> {
  const stores = (raw.stores ?? {}) as Record<string, unknown>;
  const config = validateConfig({
    providers: [{ name: 'sim', type: 'sim', models: ['sim-fast', 'sim-smart', 'sim-embed'] }],
    ...raw,
    // Each test gateway gets its own embedded store (ledger, keys, idempotency), so test files never share state.
    stores: { ...stores, sqlite: { path: join(mkdtempSync(join(tmpdir(), 'bw-test-')), 'breakwater.db'), ...(stores.sqlite as object | undefined) } },
    server: { port: 0, host: '127.0.0.1', ...(raw.server as object | undefined) },
    logging: { level: 'info', ...(raw.logging as object | undefined) },
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(line);
      callback();
    },
  });
  const logger = pino({ level: config.logging.level, redact: { paths: ['authorization', '*.api_key'], censor: '[redacted]' } }, sink);
  const gateway = await Gateway.create(config, { logger });
  options.beforeListen?.(gateway);
  const url = await gateway.listen();
  return {
    gateway,
    url,
    logs,
    config,
    sim(name = 'sim') {
      const provider = gateway.providers.get(name);
      if (!(provider instanceof SimAdapter) || !provider.simulator) throw new Error(`no in-process simulator named ${name}`);
      return provider.simulator;
    },
    close: () => gateway.shutdown(1, 0),
  };
}

/** Parses an SSE body into its data payloads (`[DONE]` included as the string). */
export function sseData(body: string): string[] {
  return body
    .split('\n\n')
    .map((event) => event.trim())
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length));
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; json: () => unknown }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as unknown };
}
