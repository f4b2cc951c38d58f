// Limiter failure-mode benchmark (issue 5): how fast does a gateway answer when its shared limiter (Redis) stops
// answering? A throwaway redis-server on its own port (never the machine's shared one) is frozen with SIGSTOP, then
// killed with SIGKILL, under fail-closed (503 expected within 50 ms: limits.decide_within_ms is 40 ms by default) and fail-open (the
// local limiter serves). Measures p50 / p99 / max of the answers, per status, and appends them to bench/RESULTS.md.
//
//   npm run build && node bench/limiter-fail-closed.mjs [--requests 400] [--concurrency 4] [--probe-interval-ms 100]
//                                                       [--from-source] [--no-record]
//
// --probe-interval-ms: how long the guard skips a failed Redis before probing it again; each probe waits the full
// decide_within_ms, the requests in between are decided at once. The default here is the config's minimum (100), so
// many requests pay the bound; the config default (1000) makes fewer probes. --from-source runs src/ through tsx
// instead of dist/ (for a quick check of a tree that is not built). --no-record prints without touching RESULTS.md.
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, startChild, stopAll, stopChild, waitReady } from './lib/procs.mjs';

const argument = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const flag = (name) => process.argv.includes(name);
const requests = argument('--requests', 400);
const concurrency = argument('--concurrency', 4);
const probeIntervalMs = argument('--probe-interval-ms', 100);
const decideWithinMs = 40; // the config default
const targetMs = 50; // the bound for the answer
const fromSource = flag('--from-source');
const record = !flag('--no-record');
// Every phase is bounded: a request that hangs is cut (and counted as a hang) instead of stalling the run.
const requestTimeoutMs = 5_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A redis-server of our own on a free port: no persistence, bound to loopback. */
async function startRedis() {
  const port = await freePort();
  const child = startChild('redis', 0, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  const deadline = Date.now() + 5_000;
  for (;;) {
    if (await redisAnswers(port)) return { child, port };
    if (Date.now() > deadline) throw new Error(`redis-server did not start on ${port}:\n${child.stderrTail}`);
    await sleep(50);
  }
}

/** PING over a plain socket (redis-cli may be missing). */
function redisAnswers(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (answered) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(String(data).startsWith('+PONG')));
    socket.write('PING\r\n');
  });
}

async function startGateway(mode, redisPort) {
  const directory = mkdtempSync(join(tmpdir(), 'bw-limiter-bench-'));
  const config = join(directory, 'breakwater.yaml');
  writeFileSync(
    config,
    [
      'logging: { level: error }',
      'stores:',
      `  sqlite: { path: ${join(directory, 'state.db')} }`,
      `  redis: { url: "redis://127.0.0.1:${redisPort}", key_prefix: "bw-bench-limiter:" }`,
      `limits: { on_redis_failure: ${mode}, decide_within_ms: ${decideWithinMs}, probe_interval_ms: ${probeIntervalMs}, key: { rpm: 1000000000 } }`,
      'accounting: { ledger: { enabled: false } }',
      'providers:',
      '  - { name: sim, type: sim, models: [sim-fast] }',
    ].join('\n'),
  );
  const port = await freePort();
  const entry = fromSource ? ['--import', 'tsx', 'src/cli/main.ts'] : ['dist/cli/main.js'];
  const child = startChild(`gateway-${mode}`, 1, process.execPath, [...entry, 'serve', '--config', config, '--port', String(port)]);
  await waitReady(child, `http://127.0.0.1:${port}/health`);
  return { child, url: `http://127.0.0.1:${port}` };
}

/** `count` chat requests from `concurrency` sequential workers; the latency of each, by status. */
async function drive(url, count) {
  const samples = [];
  let next = 0;
  const body = JSON.stringify({ model: 'sim-fast', max_tokens: 5, messages: [{ role: 'user', content: 'limiter' }] });
  const worker = async () => {
    while (next < count) {
      next++;
      const started = performance.now();
      let status;
      try {
        const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(requestTimeoutMs) });
        await response.arrayBuffer();
        status = String(response.status);
      } catch (error) {
        status = error?.name === 'TimeoutError' ? 'hang' : 'error';
      }
      samples.push({ status, ms: performance.now() - started });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return samples;
}

function summarise(samples) {
  const sorted = samples.map((sample) => sample.ms).sort((a, b) => a - b);
  const at = (quantile) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(quantile * sorted.length) - 1))] ?? 0;
  const statuses = {};
  for (const sample of samples) statuses[sample.status] = (statuses[sample.status] ?? 0) + 1;
  return {
    requests: samples.length,
    statuses,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted.at(-1) ?? 0,
    overBound: sorted.filter((ms) => ms > targetMs).length,
  };
}

/** Waits (bounded) until the gateway serves through the shared limiter again after Redis came back. */
async function waitRecovered(url) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const [sample] = await drive(url, 1);
    if (sample?.status === '200') return;
    await sleep(probeIntervalMs);
  }
  throw new Error('the gateway did not recover after Redis came back');
}

async function scenario(mode) {
  const results = {};
  const redis = await startRedis();
  const gateway = await startGateway(mode, redis.port);
  try {
    await drive(gateway.url, 50); // warm-up: connections, JIT, the Lua scripts loaded
    results.healthy = summarise(await drive(gateway.url, requests));

    redis.child.kill('SIGSTOP');
    try {
      results.frozen = summarise(await drive(gateway.url, requests));
    } finally {
      redis.child.kill('SIGCONT');
    }
    await sleep(probeIntervalMs);
    await waitRecovered(gateway.url);

    redis.child.kill('SIGKILL');
    await redis.child.exited;
    results.killed = summarise(await drive(gateway.url, requests));
  } finally {
    await stopChild(gateway.child);
    await stopChild(redis.child);
  }
  return results;
}

const fmt = (ms) => `${ms.toFixed(1)} ms`;
const statusText = (statuses) =>
  Object.entries(statuses)
    .map(([status, count]) => `${count}× ${status}`)
    .join(', ');

async function main() {
  const closed = await scenario('closed');
  const open = await scenario('open');
  const result = { requests, concurrency, probeIntervalMs, decideWithinMs, closed, open };
  console.log(JSON.stringify(result, null, 2));
  const rows = [];
  for (const [mode, results] of [
    ['fail-closed', closed],
    ['fail-open', open],
  ]) {
    for (const redisState of ['healthy', 'frozen', 'killed']) {
      const summary = results[redisState];
      rows.push(`| ${mode} | ${redisState} | ${statusText(summary.statuses)} | ${fmt(summary.p50)} | ${fmt(summary.p99)} | ${fmt(summary.max)} | ${summary.overBound} |`);
    }
  }
  const section = [
    '',
    `## Limiter failure modes — ${new Date().toISOString()}`,
    '',
    `Command: \`node bench/limiter-fail-closed.mjs --requests ${requests} --concurrency ${concurrency} --probe-interval-ms ${probeIntervalMs}\` (node ${process.version}).`,
    `One gateway (${fromSource ? 'src/ through tsx' : 'built dist/'}) with a key rpm limit on a throwaway redis-server; \`decide_within_ms: ${decideWithinMs}\`,`,
    `\`probe_interval_ms: ${probeIntervalMs}\`; ${concurrency} clients in a closed loop, ${requests} requests per row. Redis frozen = SIGSTOP`,
    '(the socket stays open, nothing answers), killed = SIGKILL (connection refused). Target: fail-closed 503 within 50 ms.',
    '',
    `| mode | Redis | answers | p50 | p99 | max | over ${targetMs} ms |`,
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
  if (record) appendFileSync('bench/RESULTS.md', section);
  else console.log(section);
}

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void stopAll().finally(() => process.exit(1)));

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
