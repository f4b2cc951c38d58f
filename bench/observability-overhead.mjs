// Throughput cost of observability: the built gateway (own process) against a standalone simulator (own process),
// with observability off (no metrics, logs silent) and with: metrics + request logs; metrics + logs + OpenTelemetry
// tracing of every request, exported as OTLP/HTTP protobuf by the gateway's exporter (the default pipeline) to a
// local sink that reads every byte (a real export over loopback, not a no-op exporter); the same with 10 % of
// requests sampled (and, on request, 0 %). Loopback only; every run is bounded in time.
//
//   npm run build && node bench/observability-overhead.mjs [--seconds 10] [--connections 32] [--rounds 3]
//        [--modes metrics+logs,full,10%] [--design sequential|paired] [--stream] [--max-tokens 16] [--warmup 5]
//        [--prompt-bytes 0] [--epochs 4] [--cycles 5]
//
// Three designs. `--design interleaved` starts one gateway per mode, all at once on the same core, warms each up,
// then loads them one at a time in short slices of `seconds`, mode after mode, for `cycles` cycles (the order rotates
// each cycle), and does that again with fresh processes for each of `epochs` epochs: every mode is measured many times, each slice next to the other modes' slices of the same cycle, so
// slow drift in what else a shared host does hits every mode alike, and the median of per-cycle ratios (each mode
// against the "off" slice of its cycle) stays steady where whole rounds drift apart. After each slice the gateway is
// left idle for the span processor's delay before its CPU is read, so its last export is counted. `--design sequential` (the default) runs one gateway at a time on its own core, modes interleaved
// round by round, and reports absolute req/s and CPU per request: what a gateway with its core(s) to itself (as in
// production) pays. `--design paired` measures each mode *paired* with an "off" peer: both gateways run at the same
// time on the same core, each under its own closed-loop load of `connections`, so whatever else the machine does
// hits both alike and the scheduler splits the core between them evenly (their CPU seconds are reported to show it);
// the cost is 1 − (mode's requests/s ÷ off peer's requests/s) within the pair. Paired is steadier against machine
// drift but exaggerates the cost of a mode with a larger working set (tracing): two processes taking turns on one
// core evict each other's caches (bench/RESULTS.md, third pass). Each figure is the median over rounds; beside
// throughput, each gateway's CPU time per request is reported (from /proc, user + system, all threads).
// With two or more cores and `taskset`, gateways run on core 0 and the simulator, the OTLP sink and the load
// generator on core 1, so the gateways are the bottleneck being measured. Gateways run from a copy of dist/ taken
// at the start (others may rebuild dist/ meanwhile).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { chatBody } from './lib/workload.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argument = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1];
};
const seconds = Number(argument('seconds', 10));
const connections = Number(argument('connections', 32));
const rounds = Number(argument('rounds', 3));
const warmupSeconds = Number(argument('warmup', 5));
const design = argument('design', 'sequential');
// The default workload is the worst case for a fixed per-request cost: a short JSON answer. `--stream --max-tokens 256`
// is closer to chat traffic (the gateway relays every chunk, so its own work per request is larger).
const stream = process.argv.includes('--stream');
const maxTokens = Number(argument('max-tokens', 16));
// The default prompt is one short user message (the worst case again: the gateway's per-request work is smallest).
// `--prompt-bytes 4000` sends a chat-shaped request instead: a system prompt and a multi-turn history of about that
// many bytes of text (~1,000 tokens), as a chat application with a few turns of history does.
const promptBytes = Number(argument('prompt-bytes', 0));
const cycles = Number(argument('cycles', 5));
const epochs = Number(argument('epochs', 4));
if (design !== 'paired' && design !== 'sequential' && design !== 'interleaved') throw new Error('--design is interleaved, paired or sequential');
const basePort = 19_700 + Math.floor(Math.random() * 100);
const simPort = basePort;
const gatewayPorts = Array.from({ length: 8 }, (_, index) => basePort + 150 + index);
const sinkPort = basePort + 250;

const sinkUrl = `http://127.0.0.1:${sinkPort}`;
const exportTo = { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_BSP_SCHEDULE_DELAY: '1000' };
const allModes = {
  off: { metrics: false, level: 'silent', env: {} },
  'metrics+logs': { metrics: true, level: 'info', env: {} },
  full: { metrics: true, level: 'info', env: exportTo },
  'full, 10 % sampled': { metrics: true, level: 'info', env: { ...exportTo, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' } },
  // Not run by default: tracing loaded and subscribed but nothing sampled (the fixed cost of having it on), and
  // each half of metrics+logs alone.
  'full, 0 % sampled': { metrics: true, level: 'info', env: { ...exportTo, OTEL_TRACES_SAMPLER: 'parentbased_always_off' } },
  metrics: { metrics: true, level: 'silent', env: {} },
  logs: { metrics: false, level: 'info', env: {} },
};
const shortNames = { '10%': 'full, 10 % sampled', '0%': 'full, 0 % sampled' };
const modeNames = argument('modes', 'metrics+logs,full,10%')
  .split(',')
  .map((name) => shortNames[name] ?? name)
  .filter((name) => name !== 'off');
for (const name of modeNames) if (!allModes[name]) throw new Error(`unknown mode ${name}; known: ${Object.keys(allModes).join(', ')}, 10%, 0%`);

if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
const directory = mkdtempSync(join(tmpdir(), 'bw-obs-'));
cpSync(join(root, 'dist'), join(directory, 'dist'), { recursive: true });
symlinkSync(join(root, 'node_modules'), join(directory, 'node_modules'));
const cliMain = join(directory, 'dist', 'cli', 'main.js');
// The spend ledger (SQLite, one record per request in every mode) lives in memory-backed /dev/shm when there is one:
// on this VM a disk-backed file's WAL writes showed up as kernel time spikes (virtio notifications) that differed
// from run to run and drowned the differences being measured. The ledger's own CPU work is the same either way.
const storeDirectory = existsSync('/dev/shm') ? mkdtempSync(join('/dev/shm', 'bw-obs-')) : directory;

const pin = availableParallelism() >= 2 && spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;
const gatewayCpu = 0;
const othersCpu = 1;
if (pin) spawnSync('taskset', ['-cp', String(othersCpu), String(process.pid)], { stdio: 'ignore' });

const children = new Set();
let exportedBytes = 0;
const sinkServer = createServer((incoming, response) => {
  incoming.on('data', (part) => (exportedBytes += part.length));
  incoming.on('end', () => response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
});

function start(args, cpu, env = {}) {
  const command = pin ? ['taskset', ['-c', String(cpu), process.execPath, cliMain, ...args]] : [process.execPath, [cliMain, ...args]];
  const child = spawn(command[0], command[1], { cwd: directory, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function waitFor(url) {
  for (let attempt = 0; attempt < 150; attempt++) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  throw new Error(`${url} did not come up`);
}

const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
/** user + system CPU seconds of a process, all its threads (taskset execs, so the child's pid is the gateway's). */
function cpuSeconds(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

async function startGateway(name, port) {
  const mode = allModes[name];
  const file = join(directory, `gateway-${port}.yaml`);
  writeFileSync(
    file,
    `server: { host: 127.0.0.1, port: ${port}, drain_seconds: 1 }\nlogging: { level: ${mode.level} }\nmetrics: { enabled: ${mode.metrics} }\n` +
      `stores: { sqlite: { path: ${JSON.stringify(join(storeDirectory, `gateway-${port}.db`))} } }\n` +
      `providers:\n  - { name: sim, type: sim, base_url: "http://127.0.0.1:${simPort}/v1", models: [sim-fast] }\n`,
  );
  // Logs go to /dev/null through the ignored stdout: writing them is measured, reading them is not.
  const child = start(['serve', '--config', file], gatewayCpu, mode.env);
  await waitFor(`http://127.0.0.1:${port}/ready`);
  return { name, port, child };
}

/** One short message, or a system prompt plus alternating turns of about `bytes` bytes of text in all (deterministic). */
const requestBody = chatBody({ maxTokens, stream, promptBytes });

function load(port, duration) {
  return autocannon({
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: requestBody,
    connections,
    duration,
  });
}

/** Loads every gateway at once for `seconds` (after a warm-up), and what each did. */
async function measureTogether(gateways) {
  await Promise.all(gateways.map((gateway) => load(gateway.port, warmupSeconds))); // warm-up (JIT, connection pools)
  const bytesBefore = exportedBytes;
  const cpuBefore = gateways.map((gateway) => cpuSeconds(gateway.child.pid));
  const results = await Promise.all(gateways.map((gateway) => load(gateway.port, seconds)));
  const cpuUsed = gateways.map((gateway, index) => cpuSeconds(gateway.child.pid) - cpuBefore[index]);
  await sleep(1100); // the batch span processor's scheduled delay: let the last spans of the run reach the sink
  const exported = exportedBytes - bytesBefore; // only one gateway of a run traces
  return gateways.map((gateway, index) => {
    const result = results[index];
    const requests = Math.max(1, result.requests.total);
    return {
      name: gateway.name,
      requestsPerSecond: result.requests.average,
      cpuSeconds: cpuUsed[index],
      cpuMicrosecondsPerRequest: (cpuUsed[index] * 1e6) / requests,
      p99Ms: result.latency.p99,
      errors: result.errors + result.non2xx,
      exportedBytesPerRequest: allModes[gateway.name].env.OTEL_EXPORTER_OTLP_ENDPOINT ? exported / requests : 0,
    };
  });
}

async function runPaired(name, round) {
  // Alternate which one starts first and which port it gets, so neither order nor port favours a side.
  const order = round % 2 === 0 ? ['off', name] : [name, 'off'];
  const gateways = [];
  try {
    for (const [index, which] of order.entries()) gateways.push(await startGateway(which, gatewayPorts[index]));
    const measured = await measureTogether(gateways);
    return { off: measured.find((run) => run.name === 'off'), mode: measured.find((run) => run.name === name) };
  } finally {
    await Promise.all(gateways.map((gateway) => stop(gateway.child)));
  }
}

async function runAlone(name) {
  const gateway = await startGateway(name, gatewayPorts[0]);
  try {
    return (await measureTogether([gateway]))[0];
  } finally {
    await stop(gateway.child);
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
/** Linear interpolation between the closest ranks. */
const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  return sorted[low] + (sorted[Math.min(low + 1, sorted.length - 1)] - sorted[low]) * (position - low);
};
const round1 = (value) => Math.round(value * 10) / 10;
const list = (values, format = Math.round) => values.map(format).join(', ');

/** Loads one already warm gateway for `seconds`, then waits for its last export before reading its CPU time. */
async function slice(gateway) {
  const bytesBefore = exportedBytes;
  const cpuBefore = cpuSeconds(gateway.child.pid);
  const result = await load(gateway.port, seconds);
  await sleep(1100); // the span processor's scheduled delay (OTEL_BSP_SCHEDULE_DELAY=1000): its last batch is sent
  const requests = Math.max(1, result.requests.total);
  const cpuUsed = cpuSeconds(gateway.child.pid) - cpuBefore;
  return {
    requestsPerSecond: result.requests.average,
    cpuMicrosecondsPerRequest: (cpuUsed * 1e6) / requests,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
    exportedBytesPerRequest: (exportedBytes - bytesBefore) / requests,
  };
}

async function runInterleaved(header) {
  const names = ['off', ...modeNames];
  if (names.length > gatewayPorts.length) throw new Error(`at most ${gatewayPorts.length - 1} modes at once`);
  const results = Object.fromEntries(names.map((name) => [name, []]));
  for (let epoch = 0; epoch < epochs; epoch++) {
    // A fresh process per mode each epoch: one process's JIT can settle on faster or slower code than another's, by
    // several per cent, whatever its mode; several epochs spread that over every mode.
    const gateways = [];
    try {
      for (let index = 0; index < names.length; index++) {
        const name = names[(index + epoch) % names.length];
        gateways.push(await startGateway(name, gatewayPorts[index]));
      }
      for (const gateway of gateways) await load(gateway.port, warmupSeconds); // JIT, connection pools
      // One cycle more than recorded: on this VM every gateway of an epoch ran its first slice ~1.7× slower than the
      // rest whatever its warm-up, so the first cycle only settles them.
      for (let cycle = -1; cycle < cycles; cycle++) {
        const order = gateways.map((_, index) => gateways[(index + cycle + 1) % gateways.length]);
        const line = [];
        const measured = {};
        for (const gateway of order) {
          measured[gateway.name] = await slice(gateway);
          line.push(`${gateway.name} ${round1(measured[gateway.name].cpuMicrosecondsPerRequest)}`);
        }
        if (cycle >= 0) for (const name of names) results[name].push({ ...measured[name], off: measured.off });
        console.error(`epoch ${epoch + 1} ${cycle < 0 ? 'settling cycle (not counted)' : `cycle ${cycle + 1}`}: µs CPU/request ${line.join(', ')}`);
      }
    } finally {
      await Promise.all(gateways.map((gateway) => stop(gateway.child)));
    }
  }
  console.log(`\n${header}\n`);
  console.log('| mode | req/s (median) | throughput cost | CPU µs / request (median; quartiles) | CPU cost | CPU cost, median of per-cycle ratios (quartiles) | p99 worst | errors | OTLP bytes / request |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const baseRps = median(results.off.map((run) => run.requestsPerSecond));
  const baseCpu = median(results.off.map((run) => run.cpuMicrosecondsPerRequest));
  const rows = [];
  for (const name of names) {
    const runs = results[name];
    const rps = median(runs.map((run) => run.requestsPerSecond));
    const cpus = runs.map((run) => run.cpuMicrosecondsPerRequest);
    const cpu = median(cpus);
    const perCycle = runs.map((run) => (1 - run.off.cpuMicrosecondsPerRequest / run.cpuMicrosecondsPerRequest) * 100);
    const row = {
      mode: name,
      throughput_cost_percent: round1((1 - rps / baseRps) * 100),
      cpu_cost_percent: round1((1 - baseCpu / cpu) * 100),
      cpu_cost_per_cycle_median_percent: round1(median(perCycle)),
      cpu_cost_per_cycle_quartiles_percent: [round1(quantile(perCycle, 0.25)), round1(quantile(perCycle, 0.75))],
    };
    rows.push(row);
    console.log(
      `| ${name} | ${Math.round(rps)} | ${row.throughput_cost_percent} % | ${round1(cpu)} (${round1(quantile(cpus, 0.25))}–${round1(quantile(cpus, 0.75))}) | ${row.cpu_cost_percent} %` +
        ` | **${row.cpu_cost_per_cycle_median_percent} %** (${row.cpu_cost_per_cycle_quartiles_percent.join(' – ')}) | ${Math.max(...runs.map((run) => run.p99Ms))} ms | ${runs.reduce((sum, run) => sum + run.errors, 0)}` +
        ` | ${Math.round(median(runs.map((run) => run.exportedBytesPerRequest)))} |`,
    );
  }
  return rows;
}

let sim;
try {
  await new Promise((resolve) => sinkServer.listen(sinkPort, '127.0.0.1', resolve));
  sim = start(['sim', '--port', String(simPort)], othersCpu);
  await waitFor(`http://127.0.0.1:${simPort}/v1/models`);
  const header = `${design}, ${stream ? 'streamed' : 'JSON'} answers of ${maxTokens} tokens, ${promptBytes > 0 ? `chat-shaped prompt of ${Buffer.byteLength(requestBody)} bytes` : 'one short prompt'}, ${design === 'interleaved' ? `${epochs} epochs × ${cycles} cycles of one ${seconds} s slice per mode` : `${rounds} rounds × ${seconds} s`}, ${connections} connections per gateway, ${pin ? 'gateways pinned to core 0' : 'not pinned'}, node ${process.version}`;
  const rows = [];
  if (design === 'interleaved') rows.push(...(await runInterleaved(header)));
  else if (design === 'paired') {
    const pairs = Object.fromEntries(modeNames.map((name) => [name, []]));
    // Interleaved rounds, so drift in what else the machine does spreads over every mode.
    for (let round = 0; round < rounds; round++) {
      for (const name of modeNames) {
        const pair = await runPaired(name, round);
        pairs[name].push(pair);
        console.error(
          `round ${round + 1} ${name}: ${Math.round(pair.mode.requestsPerSecond)} req/s vs off ${Math.round(pair.off.requestsPerSecond)}` +
            ` (cost ${round1((1 - pair.mode.requestsPerSecond / pair.off.requestsPerSecond) * 100)} %); CPU s ${round1(pair.mode.cpuSeconds)} vs ${round1(pair.off.cpuSeconds)}`,
        );
      }
    }
    console.log(`\n${header}\n`);
    console.log('| mode | throughput cost vs off peer (median; rounds) | req/s mode / off peer (medians) | CPU µs per request mode / off peer (medians) | CPU cost | CPU s mode / off peer (split check) | p99 worst | errors | OTLP bytes / request |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const [name, runs] of Object.entries(pairs)) {
      const costs = runs.map((pair) => (1 - pair.mode.requestsPerSecond / pair.off.requestsPerSecond) * 100);
      const cpuCosts = runs.map((pair) => (1 - pair.off.cpuMicrosecondsPerRequest / pair.mode.cpuMicrosecondsPerRequest) * 100);
      const row = {
        mode: name,
        throughput_cost_percent: round1(median(costs)),
        throughput_cost_percent_rounds: costs.map(round1),
        cpu_cost_percent: round1(median(cpuCosts)),
      };
      rows.push(row);
      console.log(
        `| ${name} | **${row.throughput_cost_percent} %** (${list(costs, round1)}) | ${Math.round(median(runs.map((pair) => pair.mode.requestsPerSecond)))} / ${Math.round(median(runs.map((pair) => pair.off.requestsPerSecond)))}` +
          ` | ${round1(median(runs.map((pair) => pair.mode.cpuMicrosecondsPerRequest)))} / ${round1(median(runs.map((pair) => pair.off.cpuMicrosecondsPerRequest)))} | ${row.cpu_cost_percent} %` +
          ` | ${round1(median(runs.map((pair) => pair.mode.cpuSeconds)))} / ${round1(median(runs.map((pair) => pair.off.cpuSeconds)))}` +
          ` | ${Math.max(...runs.flatMap((pair) => [pair.mode.p99Ms, pair.off.p99Ms]))} ms | ${runs.reduce((sum, pair) => sum + pair.mode.errors + pair.off.errors, 0)}` +
          ` | ${Math.round(median(runs.map((pair) => pair.mode.exportedBytesPerRequest)))} |`,
      );
    }
  } else {
    const names = ['off', ...modeNames];
    const results = Object.fromEntries(names.map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const name of names) {
        const run = await runAlone(name);
        results[name].push(run);
        console.error(`round ${round + 1} ${name}: ${Math.round(run.requestsPerSecond)} req/s, ${round1(run.cpuMicrosecondsPerRequest)} µs CPU/request`);
      }
    }
    const baseRps = median(results.off.map((run) => run.requestsPerSecond));
    const baseCpu = median(results.off.map((run) => run.cpuMicrosecondsPerRequest));
    console.log(`\n${header}\n`);
    // Besides the ratio of medians, each round's own ratio (mode against the "off" run of the same round): modes run
    // back to back within a round, so drift in what else the host does (a shared VM) hits both sides of a round's
    // ratio alike, and the median of those ratios is the steadier figure when the rounds drift.
    console.log('| mode | req/s (median; rounds) | throughput cost | CPU µs / request (median; rounds) | CPU cost | CPU cost, median of per-round ratios (rounds) | p99 worst | errors | OTLP bytes / request |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const [name, runs] of Object.entries(results)) {
      const rps = median(runs.map((run) => run.requestsPerSecond));
      const cpu = median(runs.map((run) => run.cpuMicrosecondsPerRequest));
      const perRound = runs.map((run, round) => (1 - results.off[round].cpuMicrosecondsPerRequest / run.cpuMicrosecondsPerRequest) * 100);
      const row = {
        mode: name,
        throughput_cost_percent: round1((1 - rps / baseRps) * 100),
        cpu_cost_percent: round1((1 - baseCpu / cpu) * 100),
        cpu_cost_per_round_median_percent: round1(median(perRound)),
      };
      rows.push(row);
      console.log(
        `| ${name} | ${Math.round(rps)} (${list(runs.map((run) => run.requestsPerSecond))}) | ${row.throughput_cost_percent} % | ${round1(cpu)} (${list(runs.map((run) => run.cpuMicrosecondsPerRequest), round1)})` +
          ` | ${row.cpu_cost_percent} % | ${row.cpu_cost_per_round_median_percent} % (${list(perRound, round1)}) | ${Math.max(...runs.map((run) => run.p99Ms))} ms | ${runs.reduce((sum, run) => sum + run.errors, 0)} | ${Math.round(median(runs.map((run) => run.exportedBytesPerRequest)))} |`,
      );
    }
  }
  console.log(`\n${JSON.stringify({ design, stream, maxTokens, promptBytes, seconds, connections, ...(design === 'interleaved' ? { epochs, cycles } : { rounds }), pinned: pin, node: process.version, rows })}`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  if (sim) await stop(sim);
  sinkServer.close();
  rmSync(directory, { recursive: true, force: true });
  rmSync(storeDirectory, { recursive: true, force: true });
}
