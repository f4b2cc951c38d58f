// Turns one run's measurements into the markdown printed at the end and appended to bench/RESULTS.md, and judges
// the targets from the issue (each as met, or missed by how much).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const serverLabels = {
  direct: '(a) upstream direct (simulator)',
  floor: '(b) floor: undici pass-through',
  breakwater: '(c) Breakwater',
  portkey: '(d) Portkey gateway 1.15.2',
};
const modeLabels = { nonStream: 'non-stream', stream: 'stream' };

const mb = (bytes) => (bytes === undefined ? 'n/a' : `${(bytes / 1e6).toFixed(1)} MB`);
const ms = (value) => (value === undefined || value === null ? 'n/a' : value.toFixed(value < 10 ? 3 : 1));
const rps = (value) => (value === undefined ? 'n/a' : Math.round(value).toLocaleString('en-US'));
const pct = (value) => `${(value * 100).toFixed(1)}%`;

function errorCell(run) {
  if (!run) return 'n/a';
  const bad = run.non2xx + run.errors + run.timeouts;
  return bad === 0 ? '0' : `**${run.non2xx} non-2xx, ${run.errors} errors (${run.timeouts} timeouts)**`;
}

/** The main table: one row per server and mode. */
export function resultsTable(results) {
  const lines = [
    '| server | mode | req/s @64 | p50 ms @64 | p99 ms @64 | p50 ms @1 | p99 ms @1 | failed @64 | other load @64 (cores) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [server, label] of Object.entries(serverLabels)) {
    for (const [mode, modeLabel] of Object.entries(modeLabels)) {
      const entry = results.runs[server]?.[mode];
      if (!entry) {
        lines.push(`| ${label} | ${modeLabel} | ${results.skipped?.[server] ?? 'not run'} | | | | | | |`);
        continue;
      }
      const { load, single } = entry;
      lines.push(
        `| ${label} | ${modeLabel} | ${rps(load?.rps)} | ${ms(load?.latencyMs.p50)} | ${ms(load?.latencyMs.p99)} | ${ms(single?.latencyMs.p50)} | ${ms(single?.latencyMs.p99)} | ${errorCell(load)} | ${load ? (load.interference.otherCores + load.interference.stealCores).toFixed(2) : 'n/a'} |`,
      );
    }
  }
  return lines.join('\n');
}

function judge(name, value, display, ok, missedBy) {
  return { name, value: display, met: ok, text: ok ? 'met' : `MISSED by ${missedBy}` };
}

/** The targets, each computed from this run's figures. */
export function judgeTargets(results) {
  const targets = [];
  const run = (server, mode, kind = 'load') => results.runs[server]?.[mode]?.[kind];
  for (const [mode, modeLabel] of Object.entries(modeLabels)) {
    const bw = run('breakwater', mode);
    const pk = run('portkey', mode);
    if (bw && pk) {
      const ratio = bw.rps / pk.rps;
      targets.push(judge(`throughput ≥ 2× Portkey (${modeLabel})`, ratio, `${ratio.toFixed(2)}×`, ratio >= 2, `${pct(1 - bw.rps / (2 * pk.rps))} (needs ${rps(2 * pk.rps)} req/s, has ${rps(bw.rps)})`));
    }
    const floor = run('floor', mode);
    if (bw && floor) {
      const share = bw.rps / floor.rps;
      targets.push(judge(`throughput ≥ 60% of the floor proxy (${modeLabel})`, share, pct(share), share >= 0.6, `${(60 - share * 100).toFixed(1)} points (needs ${rps(0.6 * floor.rps)} req/s, has ${rps(bw.rps)})`));
    }
  }
  for (const [kind, kindLabel] of [['load', '64 connections'], ['single', '1 connection']]) {
    for (const [mode, modeLabel] of Object.entries(modeLabels)) {
      const bw = run('breakwater', mode, kind);
      const direct = run('direct', mode, kind);
      if (!bw || !direct) continue;
      const added = bw.latencyMs.p50 - direct.latencyMs.p50;
      targets.push(judge(`added p50 latency over direct ≤ 1 ms (${modeLabel}, ${kindLabel})`, added, `${added.toFixed(3)} ms`, added <= 1, `${(added - 1).toFixed(3)} ms`));
    }
  }
  const rss = results.rss;
  if (rss?.idleBytes !== undefined) {
    targets.push(judge('RSS idle ≤ 100 MB', rss.idleBytes, mb(rss.idleBytes), rss.idleBytes <= 100e6, mb(rss.idleBytes - 100e6)));
  }
  const soak = rss?.soak;
  const loadMax = soak?.maxBytes ?? rss?.maxDuringRunsBytes;
  if (loadMax !== undefined) {
    const where = soak ? '2-minute soak' : 'short runs only: use --soak';
    targets.push(judge(`RSS under load ≤ 250 MB (${where})`, loadMax, mb(loadMax), loadMax <= 250e6, mb(loadMax - 250e6)));
  }
  if (soak?.lastMinute) {
    const { maxDeviation, spread } = soak.lastMinute;
    targets.push(
      judge(
        'RSS flat ±10% over the last minute of the soak',
        maxDeviation,
        `samples within ±${pct(maxDeviation)} of their mean; (max−min)/mean ${pct(spread)}`,
        maxDeviation <= 0.1,
        `${((maxDeviation - 0.1) * 100).toFixed(1)} points`,
      ),
    );
  } else {
    targets.push({ name: 'RSS flat ±10% over the last minute', value: undefined, met: undefined, text: 'not measured (run with --soak)' });
  }
  return targets;
}

export function targetsTable(targets) {
  return ['| target | measured | verdict |', '| --- | --- | --- |', ...targets.map((t) => `| ${t.name} | ${t.value ?? ''} | ${t.text} |`)].join('\n');
}

function checksSection(checks) {
  const lines = ['| server | mode | HTTP | body vs upstream | content-type (upstream → server) |', '| --- | --- | --- | --- | --- |'];
  const notes = [];
  for (const [server, byMode] of Object.entries(checks)) {
    for (const [mode, check] of Object.entries(byMode)) {
      lines.push(`| ${serverLabels[server]} | ${modeLabels[mode]} | ${check.status} | ${check.byteIdentical ? 'byte-identical' : check.verdict} | ${check.upstreamContentType} → ${check.serverContentType} |`);
      if (check.difference) {
        const d = check.difference;
        notes.push(`- ${serverLabels[server]}, ${modeLabels[mode]}: ${d.differingLines} of ${d.totalLines} lines differ; first at line ${d.line}:\n  - upstream: \`${d.upstream}\`\n  - server:   \`${d.server}\``);
      }
    }
  }
  return [lines.join('\n'), ...(notes.length ? ['', ...notes] : [])].join('\n');
}

function soakSection(soak) {
  if (!soak) return 'Soak not run (`node bench/run.mjs --soak` runs it).';
  const samples = soak.samples.map((s) => `${s.t}s ${(s.bytes / 1e6).toFixed(1)}`).join(', ');
  const lm = soak.lastMinute;
  return [
    `Breakwater, fresh process, ${soak.seconds} s at ${soak.connections} connections alternating non-stream and stream requests: ${rps(soak.load?.rps)} req/s, ${errorCell(soak.load)} failed, other load ${soak.load ? (soak.load.interference.otherCores + soak.load.interference.stealCores).toFixed(2) : 'n/a'} cores.`,
    `RSS before: ${mb(soak.idleBytes)}; max during: ${mb(soak.maxBytes)}; last minute: min ${mb(lm?.min)}, max ${mb(lm?.max)}, mean ${mb(lm?.mean)}, (max−min)/mean ${lm ? pct(lm.spread) : 'n/a'}; 5 s after the load: ${mb(soak.afterBytes)}.`,
    `Samples (MB, every ${soak.everySeconds} s): ${samples}`,
  ].join('\n\n');
}

/** The section for this run, as printed and as appended to RESULTS.md. */
export function runSection(results, targets) {
  const m = results.meta;
  return [
    `## Run ${m.date}`,
    '',
    `- command: \`${m.command}\``,
    `- node ${m.machine.node}; machine: nproc ${m.machine.nproc}, ${m.machine.cpuModel}, ${m.machine.memGB} GB RAM, Linux ${m.machine.kernel}`,
    `- commit ${m.git.commit}${m.git.dirtySrc ? ' (src/ had uncommitted changes)' : ''}; Breakwater from dist/ built ${m.distBuilt}`,
    `- layout: ${m.layout}`,
    `- each figure: ${m.params.warmup} s warm-up (discarded) then ${m.params.duration} s measured at ${m.params.connections} connections; @1: ${m.params.singleWarmup} s + ${m.params.singleDuration} s at 1 connection`,
    '',
    resultsTable(results),
    '',
    '### Targets',
    '',
    targetsTable(targets),
    '',
    '### Correctness (one request each, body through the server vs. body from the simulator directly)',
    '',
    checksSection(results.checks),
    '',
    '### Memory (Breakwater RSS, VmRSS from /proc)',
    '',
    `Idle (fresh start, the 2 check requests + ${results.rss?.warmRequests ?? '?'} more, 2 s to settle, median of 3 samples 1 s apart: ${(results.rss?.idleSamples ?? []).map(mb).join(', ')}): ${mb(results.rss?.idleBytes)}; max during the runs above (sampled every second): ${mb(results.rss?.maxDuringRunsBytes)}; after them: ${mb(results.rss?.afterRunsBytes)}.`,
    '',
    soakSection(results.rss?.soak),
    ...(results.warnings.length ? ['', '### Warnings', '', ...results.warnings.map((w) => `- ${w}`)] : []),
    '',
  ].join('\n');
}

const header = `# Benchmark results

Written by \`npm run bench\` (\`node bench/run.mjs\`, add \`--soak\` for the 2-minute memory soak); each run appends a
section below. Method:

- Upstream: the Breakwater simulator (\`breakwater sim\`, zero latency), deterministic content. Servers under test,
  one at a time beside the simulator: (a) none (the simulator directly), (b) \`bench/floor-proxy.mjs\`, a minimal
  node:http + undici Pool pass-through (the floor for a Node gateway), (c) Breakwater from dist/ with a config
  pointing at the simulator and its default per-request log line on (stdout to /dev/null), (d) Portkey's
  open-source gateway (@portkey-ai/gateway 1.15.2, hono 4.9.7, @hono/node-server 1.13.5) with its Node server,
  routed to the simulator through \`x-portkey-custom-host\`.
- Load: autocannon 8 (programmatic, in a child process \`bench/load.mjs\`), \`POST /v1/chat/completions\` with one
  user message, non-streaming and \`"stream": true\`. 64 connections: a warm-up run (discarded) then a measured run;
  req/s counts 2xx responses only. Latency percentiles come from every 2xx response time (hrtime, µs resolution),
  not autocannon's whole-millisecond histogram. "@1" is the same at one connection: the unloaded per-request
  latency, where "added latency" is not just queueing (at 64 connections p50 is mostly 64 / throughput).
- Pinning (2 cores): load generator (and the orchestrator) on CPU 1; the simulator and the server under test on
  CPU 0. So (a) is the simulator alone on a core and (b)–(d) share that core with the simulator: the simulator's
  cost is in every proxy figure, which narrows ratios between proxies a little.
- Other load: CPU time the machine spent outside our processes during each measurement (other processes, kernel
  work not charged to us, hypervisor steal), in cores. A quiet machine shows a small baseline. Each measurement
  waits (up to 20 s) for a quiet moment first; one above 0.15 cores is repeated once and the less disturbed kept.
- Correctness: before measuring, one non-streaming and one streaming response through each server are compared
  byte for byte with the simulator's; only the per-response \`id\` and \`created\` are expected to differ.
- Memory: Breakwater's VmRSS (from /proc/<pid>/status) idle after start and a few requests (median of 3 samples),
  and with \`--soak\` every 5 s during 2 minutes of load (64 connections alternating stream and non-stream) in a
  fresh process; "flat" is judged on the last minute (every sample within ±10% of the mean). MB = 10^6 bytes.
- Targets (from the issue): Breakwater ≥ 2× Portkey's and ≥ 60% of the floor's throughput, added p50 latency over
  direct ≤ 1 ms, RSS ≤ 100 MB idle and ≤ 250 MB under load, flat ±10% over the last minute.
`;

/** Appends the run's section to RESULTS.md, writing the header first when the file is new. */
export function appendResults(file, section) {
  const before = existsSync(file) ? readFileSync(file, 'utf8') : header;
  writeFileSync(file, `${before.trimEnd()}\n\n${section}`);
}
