// Starts the provider simulator: an OpenAI-compatible upstream on node:http, with scripted faults, for tests and benchmarks.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseFaultSpec, validateFaultSpec, type FaultSpec } from './fault-spec.js';
import { resolveLatency, type SimLatency } from './latency.js';
import { SimHandler } from './sim-handler.js';
import type { SimStats } from './stats.js';

export interface SimOptions {
  /** Instance name, echoed in the x-sim-instance response header (default 'sim'), to tell simulators apart. */
  name?: string;
  /** Interface to listen on (default '127.0.0.1'). */
  host?: string;
  /** Port to listen on (default 0: an ephemeral port, read it back from SimServer.port). */
  port?: number;
  /** Simulated model speed for every request; x-sim-latency overrides it per request. */
  latency?: SimLatency;
  /**
   * Faults for requests without an x-sim-fault header, in the header's grammar or as objects; the
   * first that matches the request and still has `times` left applies. A bad spec rejects startSimServer.
   */
  faults?: Array<string | FaultSpec>;
  /** Model ids listed by GET /v1/models (default ['sim-fast', 'sim-smart', 'sim-embed']). Chat accepts any model. */
  models?: string[];
}

export interface SimServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:40123 (append /v1 for OpenAI clients). */
  url: string;
  port: number;
  stats(): SimStats;
  /** Zeroes the counters and the `times` counts of every fault. */
  reset(): void;
  /** Stops listening and destroys every open connection, hung ones included, so it resolves promptly. */
  close(): Promise<void>;
}

const defaultModels = ['sim-fast', 'sim-smart', 'sim-embed'];
// Longer than typical client pools keep idle sockets, so benchmarks do not race the server closing them.
const keepAliveTimeoutMs = 65_000;

function formatUrl(host: string, port: number): string {
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return `http://${shownHost}:${port}`;
}

export async function startSimServer(options: SimOptions = {}): Promise<SimServer> {
  const faults = (options.faults ?? []).map((fault, index) => {
    try {
      return typeof fault === 'string' ? parseFaultSpec(fault) : validateFaultSpec({ ...fault });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new Error(`sim option faults[${index}]: ${detail}`, { cause: error });
    }
  });
  const handler = new SimHandler({
    name: options.name ?? 'sim',
    models: options.models ?? defaultModels,
    latency: resolveLatency(options.latency),
    faults,
  });
  const host = options.host ?? '127.0.0.1';

  const server = createServer({ keepAliveTimeout: keepAliveTimeoutMs, noDelay: true }, handler.handle);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    url: formatUrl(host, port),
    port,
    stats: () => handler.stats.snapshot(),
    reset: () => handler.reset(),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

