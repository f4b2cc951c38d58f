// Observability's cost in instructions, not seconds: the built gateway runs under `valgrind --tool=callgrind` (every
// thread counted), one mode at a time, against the simulator and a local OTLP sink; after `--warmup` requests the
// counters are zeroed, `--requests` more are counted, and the instructions per request are reported for each mode
// against "off". Counts do not drift with what else a shared host runs (wall-clock runs here spread by ±15 % and more),
// so this is the measurement to compare two builds with; it does not see cache misses or the kernel, so the end-to-end
// benchmark (observability-overhead.mjs) stays the one that measures throughput. Linux with valgrind only; each mode
// takes several minutes (the gateway runs ~50 times slower under valgrind).
//
//   npm run build && node bench/observability-instructions.mjs [--modes off,metrics+logs,0%,10%,full]
//        [--warmup 25000] [--requests 20000] [--connections 32] [--processes 2]
//        [--stream] [--max-tokens 16] [--prompt-bytes 0]
//
// The default workload is the worst case for a fixed per-request cost: a JSON answer of 16 tokens to one short prompt.
// `--stream --max-tokens 256 --prompt-bytes 4000` is chat-shaped: a ~4 KB conversation answered by a streamed reply.
// Each such request costs ~8× the instructions and valgrind runs ~100 ms of it, so the windows that fit in a session
// are short, and short windows do not settle: at `--warmup 1500 --requests 400` TurboFan was still compiling in the
// counted window and one mode's count ranged from 3.5M to 5.1M per request between processes (bench/RESULTS.md,
// ninth pass). Time-driven work (the span processor's scheduled export, the log writer's flush, the event-loop
// monitor) also runs ~50× more often per request under valgrind than natively, which weighs most on slow requests.
//
// Counts still differ from one gateway process to another of the same mode, by up to ~40 % when a process's JIT state
// goes wrong (a megamorphic site calling the runtime on every request); such a state only adds instructions. So each
// mode runs in `--processes` fresh processes (one after another, modes interleaved), every count is printed, and the
// cost column compares the lowest counts.
//
// Under valgrind (not natively: checked with `perf record` on the same build) some gateway processes end up calling
// V8's runtime for every `process.nextTick` (Node's tick object literal, computed symbol keys: ~53k instructions per
// request); the column "of which nextTick's slow literal" shows it and "without it" leaves it out, so processes that
// hit it and processes that did not compare fairly.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
const warmup = Number(argument('warmup', 25_000));
const requests = Number(argument('requests', 20_000));
const connections = Number(argument('connections', 32));
const processes = Number(argument('processes', 2));
const stream = process.argv.includes('--stream');
const maxTokens = Number(argument('max-tokens', 16));
const promptBytes = Number(argument('prompt-bytes', 0));
const shortNames = { '10%': 'full, 10 % sampled', '0%': 'full, 0 % sampled' };
const modeNames = ['off', ...argument('modes', 'metrics+logs,0%,10%,full').split(',').map((name) => shortNames[name] ?? name).filter((name) => name !== 'off')];

if (spawnSync('valgrind', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error('valgrind is not installed (Debian: apt-get install valgrind)');
  process.exit(2);
}

const basePort = 19_500 + Math.floor(Math.random() * 100);
const simPort = basePort;
const sinkPort = basePort + 50;
const sinkUrl = `http://127.0.0.1:${sinkPort}`;
const exportTo = { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_BSP_SCHEDULE_DELAY: '1000' };
const modes = {
  off: { metrics: false, level: 'silent', env: {} },
  'metrics+logs': { metrics: true, level: 'info', env: {} },
  full: { metrics: true, level: 'info', env: exportTo },
  'full, 10 % sampled': { metrics: true, level: 'info', env: { ...exportTo, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' } },
  'full, 0 % sampled': { metrics: true, level: 'info', env: { ...exportTo, OTEL_TRACES_SAMPLER: 'parentbased_always_off' } },
};
for (const name of modeNames) if (!modes[name]) throw new Error(`unknown mode ${name}; known: ${Object.keys(modes).join(', ')}, 10%, 0%`);

// A copy of dist/ (others may rebuild it meanwhile); the ledger in memory-backed /dev/shm as in the end-to-end bench.
const directory = mkdtempSync(join(tmpdir(), 'bw-instr-'));
cpSync(join(root, 'dist'), join(directory, 'dist'), { recursive: true });
symlinkSync(join(root, 'node_modules'), join(directory, 'node_modules'));
writeFileSync(join(directory, 'package.json'), readFileSync(join(root, 'package.json')));
const storeDirectory = mkdtempSync(join(readdirSync('/dev').includes('shm') ? '/dev/shm' : tmpdir(), 'bw-instr-'));
const pin = availableParallelism() >= 2 && spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;
if (pin) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });

const children = new Set();
function start(command, args, cpu, env = {}) {
  const [file, list] = pin ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, args];
  const child = spawn(file, list, { cwd: directory, stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, ...env } });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function waitFor(url, attempts) {
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not up yet
    }
    await sleep(500);
  }
  throw new Error(`${url} did not come up`);
}

const body = chatBody({ maxTokens, stream, promptBytes });
const load = (port, amount) =>
  autocannon({ url: `http://127.0.0.1:${port}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, amount, timeout: 60 });

function callgrindControl(option, pid) {
  const result = spawnSync('callgrind_control', [option, String(pid)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`callgrind_control ${option} failed: ${result.stderr}`);
}

/** Total instructions of a dump, and the inclusive instructions of calls into the runtime's keyed literal define. */
function readDump(file) {
  const text = readFileSync(file, 'utf8');
  const total = Number(/^(?:summary|totals): (\d+)/m.exec(text)?.[1] ?? Number.NaN);
  const names = new Map();
  let slowLiteral = 0;
  let callee = '';
  let counting = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('cfn=')) {
      const match = /^cfn=\((\d+)\)(?: (.*))?$/.exec(line);
      if (match?.[2] !== undefined) names.set(match[1], match[2]);
      callee = match ? (names.get(match[1]) ?? '') : '';
    } else if (line.startsWith('fn=')) {
      const match = /^fn=\((\d+)\)(?: (.*))?$/.exec(line);
      if (match?.[2] !== undefined) names.set(match[1], match[2]);
    } else if (line.startsWith('calls=')) {
      counting = callee.includes('Runtime_DefineKeyedOwnPropertyInLiteral');
    } else if (counting) {
      counting = false;
      slowLiteral += Number(line.trim().split(/\s+/)[1] ?? 0);
    }
  }
  return { total, slowLiteral };
}

async function measure(name, port) {
  const mode = modes[name];
  const config = join(directory, `gateway-${port}.yaml`);
  writeFileSync(
    config,
    `server: { host: 127.0.0.1, port: ${port}, drain_seconds: 1 }\nlogging: { level: ${mode.level} }\nmetrics: { enabled: ${mode.metrics} }\n` +
      `stores: { sqlite: { path: ${JSON.stringify(join(storeDirectory, `gateway-${port}.db`))} } }\n` +
      `providers:\n  - { name: sim, type: sim, base_url: "http://127.0.0.1:${simPort}/v1", models: [sim-fast] }\n`,
  );
  const out = join(directory, `callgrind-${port}.out`);
  const gateway = start('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, '--dump-instr=no', process.execPath, join(directory, 'dist', 'cli', 'main.js'), 'serve', '--config', config], 0, mode.env);
  try {
    await waitFor(`http://127.0.0.1:${port}/ready`, 240);
    const warm = await load(port, warmup);
    await sleep(2000); // the last export and ledger batch of the warm-up
    callgrindControl('-z', gateway.pid);
    const counted = await load(port, requests);
    await sleep(2000);
    callgrindControl('-d', gateway.pid);
    await sleep(1000);
    const dumps = readdirSync(directory).filter((file) => file.startsWith(`callgrind-${port}.out.`));
    const { total, slowLiteral } = readDump(join(directory, dumps.sort().at(-1)));
    const served = counted.requests.total;
    const errors = warm.errors + warm.non2xx + counted.errors + counted.non2xx;
    return { name, perRequest: total / served, slowLiteral: slowLiteral / served, served, errors };
  } finally {
    gateway.kill('SIGKILL');
    await new Promise((resolve) => (gateway.exitCode === null && gateway.signalCode === null ? gateway.once('exit', resolve) : resolve()));
  }
}

const sink = createServer((incoming, response) => {
  incoming.resume();
  incoming.on('end', () => response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
});
try {
  await new Promise((resolve) => sink.listen(sinkPort, '127.0.0.1', resolve));
  start(process.execPath, [join(directory, 'dist', 'cli', 'main.js'), 'sim', '--port', String(simPort)], 1);
  await waitFor(`http://127.0.0.1:${simPort}/v1/models`, 60);
  const results = new Map(modeNames.map((name) => [name, []]));
  let port = basePort + 100;
  for (let round = 0; round < processes; round++) {
    for (const name of modeNames) {
      const result = await measure(name, port++);
      console.log(`${name}: ${Math.round(result.perRequest)} instructions per request (${Math.round(result.slowLiteral)} in nextTick's slow literal), ${result.served} requests, ${result.errors} errors`);
      results.get(name).push(result);
    }
  }
  const clean = (result) => result.perRequest - result.slowLiteral;
  const lowest = (name) => Math.min(...results.get(name).map(clean));
  const k = (value) => `${Math.round(value / 1000)}k`;
  console.log(`\ncallgrind, all threads, ${stream ? 'streamed' : 'JSON'} answers of ${maxTokens} tokens, ${promptBytes > 0 ? `chat-shaped prompt of ${Buffer.byteLength(body)} bytes` : 'one short prompt'}, ${warmup} requests of warm-up then ${requests} counted, ${connections} connections, ${processes} processes per mode, ${pin ? 'gateway pinned to core 0' : 'not pinned'}, node ${process.version}\n`);
  console.log("| mode | instructions per request, each process | of which nextTick's slow literal | lowest without it | cost vs off (lowest) | errors |");
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const name of modeNames) {
    const runs = results.get(name);
    const cost = ((lowest(name) / lowest('off') - 1) * 100).toFixed(1);
    console.log(
      `| ${name} | ${runs.map((run) => k(run.perRequest)).join(' / ')} | ${runs.map((run) => k(run.slowLiteral)).join(' / ')} | ${k(lowest(name))}` +
        ` | ${name === 'off' ? '0 %' : `**${cost} %**`} | ${runs.reduce((sum, run) => sum + run.errors, 0)} |`,
    );
  }
} finally {
  for (const child of children) child.kill('SIGKILL');
  sink.close();
  rmSync(directory, { recursive: true, force: true });
  rmSync(storeDirectory, { recursive: true, force: true });
}
