// Memory per concurrent stream: opens N slow SSE streams through a gateway (its own process) against a standalone
// simulator (another process) pacing tokens, and measures the gateway's resident memory with all N open.
// Usage: node bench/streams-memory.mjs [--streams 1000] [--token-ms 100]
// Runs the TypeScript sources through tsx, so no build is needed; loopback only; stops by itself.
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';

const argument = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const streams = argument('streams', 1000);
const tokenMs = argument('token-ms', 100);
const simPort = 19_400 + Math.floor(Math.random() * 200);
const gatewayPort = simPort + 300;
const directory = mkdtempSync(join(tmpdir(), 'bw-streams-'));
const children = [];

function start(args) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}

function residentBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

async function waitFor(url, deadlineMs = 30_000) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${url} did not come up`);
}

const agent = new Agent({ connections: streams + 10, pipelining: 1, keepAliveTimeout: 60_000 });
const body = JSON.stringify({ model: 'sim-fast', stream: true, max_tokens: 400, messages: [{ role: 'user', content: 'Tell me a long story.' }] });

/** Opens one stream; resolves once its first chunk arrived, keeps reading slowly until aborted. */
function openStream(signal) {
  return new Promise((resolve, reject) => {
    request(`http://127.0.0.1:${gatewayPort}/v1/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      signal,
      headers: { 'content-type': 'application/json', 'x-sim-latency': `ttft=0;token=${tokenMs}` },
      body,
    }).then(async (response) => {
      if (response.statusCode !== 200) return reject(new Error(`status ${response.statusCode}: ${await response.body.text()}`));
      let first = true;
      try {
        for await (const _chunk of response.body) {
          if (first) resolve();
          first = false;
        }
      } catch {
        // aborted at the end of the measurement
      }
    }, reject);
  });
}

try {
  writeFileSync(
    join(directory, 'breakwater.yaml'),
    `server: { host: 127.0.0.1, port: ${gatewayPort}, drain_seconds: 1 }\nlogging: { level: warn }\nproviders:\n  - { name: sim, type: sim, base_url: "http://127.0.0.1:${simPort}/v1", models: [sim-fast], max_connections: ${streams + 10} }\n`,
  );
  start(['sim', '--port', String(simPort)]);
  const gateway = start(['serve', '--config', join(directory, 'breakwater.yaml')]);
  await waitFor(`http://127.0.0.1:${simPort}/v1/models`);
  await waitFor(`http://127.0.0.1:${gatewayPort}/ready`);

  // Warm up (JIT, pools, buffers) with a short wave, then let it settle before the baseline.
  const warm = new AbortController();
  setMaxListeners(Infinity, warm.signal);
  await Promise.all(Array.from({ length: 50 }, () => openStream(warm.signal)));
  warm.abort();
  await sleep(2_000);
  const baseline = residentBytes(gateway.pid);

  const controller = new AbortController();
  setMaxListeners(Infinity, controller.signal);
  const started = performance.now();
  const opened = [];
  for (let index = 0; index < streams; index++) {
    opened.push(openStream(controller.signal));
    if (index % 100 === 99) await sleep(50); // open in waves: we measure holding streams, not a connect storm
  }
  await Promise.all(opened);
  const openMs = performance.now() - started;
  let peak = 0;
  for (let sample = 0; sample < 6; sample++) {
    peak = Math.max(peak, residentBytes(gateway.pid));
    await sleep(500);
  }
  controller.abort();
  const perStream = (peak - baseline) / streams;
  const megabytes = (bytes) => (bytes / 1024 / 1024).toFixed(1);
  console.log(
    JSON.stringify(
      {
        streams,
        token_ms: tokenMs,
        open_all_ms: Math.round(openMs),
        baseline_rss_mb: Number(megabytes(baseline)),
        rss_with_streams_mb: Number(megabytes(peak)),
        kb_per_stream: Math.round(perStream / 1024),
        mb_per_1000_streams: Number(megabytes(perStream * 1000)),
        node: process.version,
      },
      null,
      2,
    ),
  );
} finally {
  await agent.close().catch(() => {});
  for (const child of children) child.kill('SIGTERM');
  rmSync(directory, { recursive: true, force: true });
}
