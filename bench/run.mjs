#!/usr/bin/env node
// Breakwater benchmark (`npm run bench`): throughput and latency of
//   (a) the upstream (the simulator) directly, (b) a minimal undici pass-through proxy (the floor for a Node gateway),
//   (c) Breakwater, (d) Portkey's gateway 1.15.2,
// each non-streaming and streaming, plus Breakwater's memory (idle, and with --soak over 2 minutes of load).
// Prints a markdown table and the issue's targets (met / missed by how much), and appends the run to bench/RESULTS.md.
//
//   npm run build && node bench/run.mjs [--soak] [--duration 10] [--warmup 2] [--connections 64] [--no-write]
//
// Bounded by construction: every child process is tracked and stopped at the end, on error and on SIGINT/SIGTERM;
// every wait has a time limit, and a watchdog ends the whole run if it overruns. All traffic goes to 127.0.0.1.
// Nothing is built here: dist/ must exist (`npm run build`). Method notes: the header of bench/RESULTS.md.
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkServer } from './lib/checks.mjs';
import { ensurePortkey, portkeyArgs, portkeyHeaders } from './lib/portkey.mjs';
import { canPin, freePort, killAllNow, pinSelf, setPinning, startChild, stopAll, stopChild, waitReady } from './lib/procs.mjs';
import { appendResults, judgeTargets, runSection } from './lib/report.mjs';
import { gitInfo, machineInfo, rssBytes, watchInterference } from './lib/system.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, '..');
const distDir = path.join(root, 'dist');
// The servers run from a snapshot of dist/ taken at the start (see snapshotDist), not from dist/ itself.
let cliMain = path.join(distDir, 'cli', 'main.js');
let serverCwd = root; // the snapshot's folder once taken: anything a server writes relative to its cwd stays there
const loadScript = path.join(benchDir, 'load.mjs');

// Core layout on this 2-core machine: the load generator (autocannon) and this orchestrator on one core, every server
// (simulator and the server under test) on the other, so load generation never steals the servers' CPU.
const serverCpu = 0;
const loadCpu = 1;
const interferenceLimitCores = 0.15; // a measurement with more foreign CPU than this is taken once more
const retries = 1;

const { values: flags } = parseArgs({
  options: {
    soak: { type: 'boolean', default: false },
    'soak-seconds': { type: 'string', default: '120' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
    'single-duration': { type: 'string', default: '5' },
    'no-write': { type: 'boolean', default: false },
    only: { type: 'string' }, // e.g. --only direct,breakwater (for quick looks; targets need all four)
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  console.log('usage: node bench/run.mjs [--soak] [--soak-seconds 120] [--duration 10] [--warmup 2] [--connections 64] [--single-duration 5] [--only direct,floor,breakwater,portkey] [--no-write]');
  process.exit(0);
}
const params = {
  duration: positive('duration'),
  warmup: positive('warmup'),
  connections: positive('connections'),
  singleDuration: positive('single-duration'),
  singleWarmup: 1,
  soakSeconds: positive('soak-seconds'),
};
function positive(name) {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < 1 || value > 3600) {
    console.error(`bench: --${name} needs a whole number from 1 to 3600, got ${flags[name]}`);
    process.exit(2);
  }
  return value;
}

const selected = new Set((flags.only ?? 'direct,floor,breakwater,portkey').split(','));
for (const name of selected) {
  if (!['direct', 'floor', 'breakwater', 'portkey'].includes(name)) {
    console.error(`bench: --only takes direct, floor, breakwater, portkey; got ${name}`);
    process.exit(2);
  }
}
const log = (message) => console.log(`bench: ${message}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- stopping: whatever happens, no child outlives the run -------------------------------------------------------
let shuttingDown = false;
async function shutdown(code, reason) {
  if (shuttingDown) return;
  shuttingDown = true;
  if (reason) console.error(`bench: ${reason}`);
  await stopAll();
  process.exit(code);
}
process.on('exit', killAllNow); // last resort if something calls process.exit directly
process.on('SIGINT', () => shutdown(130, 'interrupted: stopping child processes'));
process.on('SIGTERM', () => shutdown(143, 'terminated: stopping child processes'));

// A generous bound on the whole run: each measurement may be taken twice; plus start-ups, checks, install and soak.
const perServerSeconds = 2 * (params.warmup + params.duration) + 2 * (params.singleWarmup + params.singleDuration);
const quietWaitSeconds = 4 * 4 * (1 + retries) * 20 + 60; // every measurement may first wait 20 s for a quiet moment
const budgetSeconds = 4 * perServerSeconds * (1 + retries) + quietWaitSeconds + 300 + (flags.soak ? params.soakSeconds + 90 : 0);
const watchdog = setTimeout(() => shutdown(1, `watchdog: the run exceeded ${budgetSeconds} s; stopped`), budgetSeconds * 1000);

// ---- the request bodies ---------------------------------------------------------------------------------------------
const bodies = {
  nonStream: JSON.stringify({ model: 'sim-fast', messages: [{ role: 'user', content: 'hello' }] }),
  stream: JSON.stringify({ model: 'sim-fast', messages: [{ role: 'user', content: 'hello' }], stream: true }),
};

const results = { meta: {}, runs: {}, checks: {}, rss: {}, skipped: {}, warnings: [] };
let simOrigin;
let sim;

async function simStats() {
  const response = await fetch(`${simOrigin}/sim/stats`, { signal: AbortSignal.timeout(5000) });
  return response.json();
}

function within(promise, ms) {
  let timer;
  return Promise.race([promise.then(() => true), new Promise((resolve) => (timer = setTimeout(() => resolve(false), ms)))]).finally(() => clearTimeout(timer));
}

/** One load-generator run in a pinned child; returns its figures plus the foreign CPU seen and the upstream calls. */
async function loadOnce(spec, serverPids) {
  await waitForQuiet(20, serverPids); // bounded: past 20 s it measures anyway, and the figure carries its "other load"
  const before = await simStats();
  const watch = watchInterference(() => [process.pid, ...serverPids]);
  const worker = startChild('load generator', loadCpu, process.execPath, [loadScript, JSON.stringify(spec)], { captureStdout: true });
  const limitMs = ((spec.warmup ?? 0) + spec.duration) * 1000 + 30_000;
  if (!(await within(worker.exited, limitMs))) {
    await stopChild(worker);
    throw new Error(`load generator did not finish within ${limitMs} ms`);
  }
  let figures;
  try {
    figures = JSON.parse(worker.stdoutText);
  } catch {
    throw new Error(`load generator failed (exit ${worker.exitCode}):\n${worker.stderrTail}`);
  }
  figures.interference = watch.sample(figures.workerCpuSeconds);
  const after = await simStats();
  figures.upstreamChats = after.chat - before.chat;
  return figures;
}

/** A measurement, taken once more if other work on the machine disturbed it; the less disturbed one is kept. */
async function measure(label, spec, serverPids) {
  let best;
  for (let attempt = 0; attempt <= retries; attempt++) {
    const figures = await loadOnce(spec, serverPids);
    const disturbance = figures.interference.otherCores + figures.interference.stealCores;
    log(`  ${label}: ${Math.round(figures.rps)} req/s, p50 ${figures.latencyMs.p50} ms, p99 ${figures.latencyMs.p99} ms, other load ${disturbance.toFixed(2)} cores`);
    if (!best || disturbance < best.interference.otherCores + best.interference.stealCores) best = figures;
    if (disturbance <= interferenceLimitCores) break;
    if (attempt < retries) log(`  ${label}: other work on the machine took ${disturbance.toFixed(2)} cores; measuring once more`);
  }
  const disturbance = best.interference.otherCores + best.interference.stealCores;
  if (disturbance > interferenceLimitCores) results.warnings.push(`${label}: other work on the machine took ${disturbance.toFixed(2)} cores during the kept measurement`);
  const failed = best.non2xx + best.errors + best.timeouts;
  if (failed > 0) results.warnings.push(`${label}: ${best.non2xx} non-2xx responses, ${best.errors} errors (${best.timeouts} timeouts)`);
  // Every response through a proxy must be one upstream call (no caching, no retries): a cross-check of the setup.
  const expectedCalls = best.totalRequests + best.warmupRequests;
  // Tolerance: each connection may leave one request in flight at the end of the warm-up and of the run (counted
  // upstream, not by the load generator), plus 1% for responses the load generator drops as it stops.
  if (Math.abs(best.upstreamChats - expectedCalls) > 2 * spec.connections + 0.01 * expectedCalls) {
    results.warnings.push(`${label}: ${best.upstreamChats} upstream calls for ${expectedCalls} responses`);
  }
  return best;
}

/** The four measurements of one server: 64 connections and 1 connection, non-stream and stream. */
async function measureServer(name, url, headers, serverPids) {
  const runs = {};
  for (const mode of ['nonStream', 'stream']) {
    runs[mode] = {
      load: await measure(`${name} ${mode} @${params.connections}`, { url, headers, bodies: [bodies[mode]], connections: params.connections, duration: params.duration, warmup: params.warmup }, serverPids),
    };
  }
  for (const mode of ['nonStream', 'stream']) {
    runs[mode].single = await measure(`${name} ${mode} @1`, { url, headers, bodies: [bodies[mode]], connections: 1, duration: params.singleDuration, warmup: params.singleWarmup }, serverPids);
  }
  results.runs[name] = runs;
}

async function checkCorrectness(name, url, headers) {
  const check = await checkServer(`${simOrigin}/v1/chat/completions`, url, headers, bodies);
  results.checks[name] = check;
  for (const [mode, c] of Object.entries(check)) {
    log(`  check ${mode}: ${c.byteIdentical ? 'byte-identical' : c.verdict}`);
    if (c.verdict === 'DIFFERENT' || c.status !== 200) results.warnings.push(`${name} ${mode}: response differs from the upstream's (see Correctness)`);
  }
}

/** A few sequential requests, so "idle" memory is after start-up and first use, not before. */
async function warmRequests(url, headers, count) {
  for (let i = 0; i < count; i++) {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: i % 2 ? bodies.stream : bodies.nonStream, signal: AbortSignal.timeout(10_000) });
    await response.text();
  }
}

/** Resident memory at rest: 2 s to settle, then the median of 3 samples 1 s apart (one sample can catch a GC peak). */
async function idleRss(pid) {
  await sleep(2000);
  const samples = [];
  for (let i = 0; i < 3; i++) {
    if (i > 0) await sleep(1000);
    samples.push(rssBytes(pid));
  }
  return { bytes: [...samples].sort((a, b) => a - b)[1], samples };
}

function writeBreakwaterConfig(dir) {
  const file = path.join(dir, 'breakwater.bench.yaml');
  // The default per-request log line stays on (its cost is part of the gateway); stdout goes to /dev/null.
  writeFileSync(
    file,
    ['providers:', '  - name: upstream', '    type: openai-compatible', `    base_url: ${simOrigin}/v1`, '    models: [sim-fast]', 'logging:', '  level: info', ''].join('\n'),
  );
  return file;
}

async function startBreakwater(configFile) {
  const port = await freePort();
  const child = startChild('breakwater', serverCpu, process.execPath, [cliMain, 'serve', '--config', configFile, '--host', '127.0.0.1', '--port', String(port)], { cwd: serverCwd });
  const origin = `http://127.0.0.1:${port}`;
  await waitReady(child, `${origin}/health`, { accept: (status) => status === 200 });
  return { child, url: `${origin}/v1/chat/completions` };
}

/**
 * Copies dist/ (with package.json, and node_modules linked) into `tmp`, so that a rebuild by someone else during the
 * run cannot change the gateway halfway: every server of this run runs the code as it was when the run began.
 */
function snapshotDist(tmp) {
  const copy = path.join(tmp, 'breakwater');
  cpSync(distDir, path.join(copy, 'dist'), { recursive: true });
  cpSync(path.join(root, 'package.json'), path.join(copy, 'package.json'));
  symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  return path.join(copy, 'dist', 'cli', 'main.js');
}

/** Waits (at most `maxSeconds`) for a moment when other processes use less than the interference limit. */
async function waitForQuiet(maxSeconds, ourPids = []) {
  const deadline = Date.now() + maxSeconds * 1000;
  let other = Infinity;
  while (Date.now() < deadline) {
    const watch = watchInterference(() => [process.pid, ...ourPids]);
    await sleep(2000);
    const { otherCores, stealCores } = watch.sample();
    other = otherCores + stealCores;
    if (other <= interferenceLimitCores) return other;
  }
  return other;
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

async function main() {
  if (!existsSync(cliMain)) {
    console.error('bench: dist/ is missing: run `npm run build` first (the benchmark measures the built gateway).');
    process.exit(2);
  }
  // The build is incremental (tsc rewrites changed outputs only): its time is that of the newest file in dist/.
  const distBuilt = new Date(newestMtime(distDir));
  if (newestMtime(path.join(root, 'src')) > distBuilt.getTime() + 1000) {
    results.warnings.push('src/ has files newer than dist/: dist/ may be stale (run `npm run build`)');
  }

  const machine = machineInfo(); // before pinning this process: `nproc` counts the cores it may use
  const pinned = canPin();
  setPinning(pinned);
  pinSelf(loadCpu);
  const command = process.env.npm_lifecycle_event === 'bench' ? `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}` : ['node', path.relative(process.cwd(), fileURLToPath(import.meta.url)), ...process.argv.slice(2)].join(' ');
  results.meta = {
    date: new Date().toISOString(),
    command,
    machine,
    git: gitInfo(root),
    distBuilt: distBuilt.toISOString(),
    layout: pinned ? `load generator + orchestrator on CPU ${loadCpu}; simulator + server under test on CPU ${serverCpu} (taskset)` : 'NOT pinned (taskset unavailable or fewer than 2 cores): figures are less reliable',
    params,
  };
  if (!pinned) results.warnings.push('cores not pinned: taskset unavailable or fewer than 2 cores');

  const portkeyEntry = selected.has('portkey') ? ensurePortkey(path.join(benchDir, '.peers', 'portkey'), log) : undefined;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'breakwater-bench-'));
  try {
    cliMain = snapshotDist(tmp);
    serverCwd = path.dirname(path.dirname(path.dirname(cliMain)));
    // Other work on this machine (test suites, builds) skews every figure: start in a quiet moment if one comes soon.
    const other = await waitForQuiet(60);
    if (other > interferenceLimitCores) log(`other work on the machine keeps ${other.toFixed(2)} cores busy; measuring anyway (see "other load")`);
    // ---- the upstream: the simulator, zero latency, for the whole run ------------------------------------------------
    const simPort = await freePort();
    simOrigin = `http://127.0.0.1:${simPort}`;
    sim = startChild('simulator', serverCpu, process.execPath, [cliMain, 'sim', '--host', '127.0.0.1', '--port', String(simPort)], { cwd: serverCwd });
    await waitReady(sim, `${simOrigin}/sim/stats`, { accept: (status) => status === 200 });
    log(`simulator at ${simOrigin} (pid ${sim.pid})`);

    // ---- (a) upstream directly ---------------------------------------------------------------------------------------
    if (selected.has('direct')) {
      log('(a) upstream directly');
      await measureServer('direct', `${simOrigin}/v1/chat/completions`, {}, [sim.pid]);
    }

    // ---- (b) floor proxy ---------------------------------------------------------------------------------------------
    if (selected.has('floor')) {
      log('(b) floor proxy');
      const port = await freePort();
      const child = startChild('floor proxy', serverCpu, process.execPath, [path.join(benchDir, 'floor-proxy.mjs'), '--port', String(port), '--upstream', simOrigin]);
      const url = `http://127.0.0.1:${port}/v1/chat/completions`;
      await waitReady(child, `http://127.0.0.1:${port}/sim/stats`);
      await checkCorrectness('floor', url, {});
      await measureServer('floor', url, {}, [sim.pid, child.pid]);
      await stopChild(child);
    }

    // ---- (c) Breakwater ----------------------------------------------------------------------------------------------
    const configFile = writeBreakwaterConfig(tmp);
    if (selected.has('breakwater')) {
      log('(c) Breakwater');
      const { child, url } = await startBreakwater(configFile);
      await checkCorrectness('breakwater', url, {});
      results.rss.warmRequests = 20;
      await warmRequests(url, {}, results.rss.warmRequests);
      const idle = await idleRss(child.pid);
      results.rss.idleBytes = idle.bytes;
      results.rss.idleSamples = idle.samples;
      log(`  RSS idle: ${(results.rss.idleBytes / 1e6).toFixed(1)} MB`);
      let maxRss = results.rss.idleBytes;
      const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssBytes(child.pid) ?? 0)), 1000);
      try {
        await measureServer('breakwater', url, {}, [sim.pid, child.pid]);
      } finally {
        clearInterval(sampler);
      }
      results.rss.maxDuringRunsBytes = maxRss;
      results.rss.afterRunsBytes = rssBytes(child.pid);
      await stopChild(child);
    }

    // ---- (d) Portkey -------------------------------------------------------------------------------------------------
    if (selected.has('portkey')) {
      log('(d) Portkey gateway');
      const port = await freePort();
      const child = startChild('portkey', serverCpu, process.execPath, portkeyArgs(portkeyEntry, port), { cwd: path.join(benchDir, '.peers', 'portkey') });
      const origin = `http://127.0.0.1:${port}`;
      await waitReady(child, `${origin}/`);
      const headers = portkeyHeaders(simOrigin);
      await checkCorrectness('portkey', `${origin}/v1/chat/completions`, headers);
      await measureServer('portkey', `${origin}/v1/chat/completions`, headers, [sim.pid, child.pid]);
      await stopChild(child);
    }

    // ---- Breakwater memory soak (optional) ---------------------------------------------------------------------------
    if (flags.soak) {
      log(`Breakwater soak: ${params.soakSeconds} s, RSS every 5 s`);
      const { child, url } = await startBreakwater(configFile);
      await warmRequests(url, {}, 20);
      const soak = { seconds: params.soakSeconds, connections: params.connections, everySeconds: 5, idleBytes: (await idleRss(child.pid)).bytes, samples: [] };
      const startedAt = Date.now();
      const sampler = setInterval(() => {
        const bytes = rssBytes(child.pid);
        const t = Math.round((Date.now() - startedAt) / 1000);
        if (bytes !== undefined && t <= params.soakSeconds) soak.samples.push({ t, bytes });
      }, soak.everySeconds * 1000);
      try {
        // Alternating non-stream and stream requests on every connection (the worker cycles through both bodies).
        soak.load = await loadOnce({ url, headers: {}, bodies: [bodies.nonStream, bodies.stream], connections: params.connections, duration: params.soakSeconds, warmup: 0 }, [sim.pid, child.pid]);
      } finally {
        clearInterval(sampler);
      }
      await sleep(5000);
      soak.afterBytes = rssBytes(child.pid);
      soak.maxBytes = Math.max(...soak.samples.map((s) => s.bytes));
      const lastMinute = soak.samples.filter((s) => s.t >= params.soakSeconds - 60).map((s) => s.bytes);
      if (lastMinute.length >= 2) {
        const mean = lastMinute.reduce((sum, b) => sum + b, 0) / lastMinute.length;
        const min = Math.min(...lastMinute);
        const max = Math.max(...lastMinute);
        soak.lastMinute = { min, max, mean, spread: (max - min) / mean, maxDeviation: Math.max(max - mean, mean - min) / mean, count: lastMinute.length };
      }
      const failed = soak.load.non2xx + soak.load.errors + soak.load.timeouts;
      if (failed > 0) results.warnings.push(`soak: ${soak.load.non2xx} non-2xx responses, ${soak.load.errors} errors (${soak.load.timeouts} timeouts)`);
      log(`  soak: max RSS ${(soak.maxBytes / 1e6).toFixed(1)} MB, last-minute spread ${soak.lastMinute ? (soak.lastMinute.spread * 100).toFixed(1) : '?'}%`);
      results.rss.soak = soak;
      await stopChild(child);
    }
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }

  const targets = judgeTargets(results);
  const section = runSection(results, targets);
  console.log(`\n${section}`);
  if (!flags['no-write']) {
    appendResults(path.join(benchDir, 'RESULTS.md'), section);
    log('appended to bench/RESULTS.md');
  }
  writeFileSync(path.join(os.tmpdir(), 'breakwater-bench-last.json'), JSON.stringify({ ...results, targets }, null, 2));
}

main().then(
  () => {
    clearTimeout(watchdog);
    process.exit(0);
  },
  (error) => shutdown(1, `failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
);
