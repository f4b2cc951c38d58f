// Throughput cost of observability: the same gateway (own process) against a standalone simulator (own process),
// with observability off (no metrics, logs silent), with metrics + request logs, and with metrics + logs +
// OpenTelemetry tracing exporting OTLP/HTTP to a local sink (every request, and 10 % sampled). Loopback only; each run is bounded in time.
// Usage: node bench/observability-overhead.mjs [--seconds 10] [--connections 32] [--rounds 2]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';

const argument = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const seconds = argument('seconds', 10);
const connections = argument('connections', 32);
const rounds = argument('rounds', 2);
const simPort = 19_700 + Math.floor(Math.random() * 100);
const gatewayPort = simPort + 150;
const sinkPort = simPort + 250;
const directory = mkdtempSync(join(tmpdir(), 'bw-obs-'));
const children = new Set();

let spansBytes = 0;
const sink = createServer((incoming, response) => {
  incoming.on('data', (part) => (spansBytes += part.length));
  incoming.on('end', () => response.writeHead(200, { 'content-type': incoming.headers['content-type'] ?? 'application/x-protobuf' }).end());
});

function start(args, env = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  children.add(child);
  return child;
}

async function stop(child) {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  children.delete(child);
}

async function waitFor(url) {
  for (let attempt = 0; attempt < 150; attempt++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  throw new Error(`${url} did not come up`);
}

const modes = {
  off: { metrics: false, level: 'silent', env: {} },
  'metrics+logs': { metrics: true, level: 'info', env: {} },
  'metrics+logs+tracing': { metrics: true, level: 'info', env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`, OTEL_BSP_SCHEDULE_DELAY: '1000' } },
  'metrics+logs+tracing 10%': {
    metrics: true,
    level: 'info',
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`, OTEL_BSP_SCHEDULE_DELAY: '1000', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
  },
};

async function measure(name) {
  const mode = modes[name];
  const file = join(directory, `${name}.yaml`);
  writeFileSync(
    file,
    `server: { host: 127.0.0.1, port: ${gatewayPort}, drain_seconds: 1 }\nlogging: { level: ${mode.level} }\nmetrics: { enabled: ${mode.metrics} }\nproviders:\n  - { name: sim, type: sim, base_url: "http://127.0.0.1:${simPort}/v1", models: [sim-fast] }\n`,
  );
  // Logs go to /dev/null through the ignored stdout: writing them is measured, reading them is not.
  const gateway = start(['serve', '--config', file], mode.env);
  await waitFor(`http://127.0.0.1:${gatewayPort}/ready`);
  const options = {
    url: `http://127.0.0.1:${gatewayPort}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim-fast', max_tokens: 16, messages: [{ role: 'user', content: 'Hello there' }] }),
    connections,
  };
  await autocannon({ ...options, duration: 2 }); // warm-up
  const result = await autocannon({ ...options, duration: seconds });
  await stop(gateway);
  return { requestsPerSecond: result.requests.average, p99Ms: result.latency.p99, errors: result.errors + result.non2xx };
}

try {
  await new Promise((resolve) => sink.listen(sinkPort, '127.0.0.1', resolve));
  start(['sim', '--port', String(simPort)]);
  await waitFor(`http://127.0.0.1:${simPort}/v1/models`);
  const results = Object.fromEntries(Object.keys(modes).map((name) => [name, []]));
  // Interleaved rounds, so drift in what else the machine does spreads over every mode.
  for (let round = 0; round < rounds; round++) for (const name of Object.keys(modes)) results[name].push(await measure(name));
  const summary = {};
  for (const [name, runs] of Object.entries(results)) {
    summary[name] = {
      requests_per_second: Math.round(runs.reduce((sum, run) => sum + run.requestsPerSecond, 0) / runs.length),
      p99_ms: Math.max(...runs.map((run) => run.p99Ms)),
      errors: runs.reduce((sum, run) => sum + run.errors, 0),
    };
  }
  const base = summary.off.requests_per_second;
  for (const name of Object.keys(summary)) summary[name].throughput_cost_percent = Math.round((1 - summary[name].requests_per_second / base) * 1000) / 10;
  console.log(JSON.stringify({ seconds, connections, rounds, spans_bytes_exported: spansBytes, node: process.version, summary }, null, 2));
} finally {
  for (const child of children) child.kill('SIGTERM');
  sink.close();
  rmSync(directory, { recursive: true, force: true });
}
