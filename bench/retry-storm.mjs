// Retry-storm benchmark (issue 3): every upstream fails; clients send 200+ requests/s for 20 s. Measures the
// upstream attempts per client request (the gateway must not amplify an outage: ≤ 1.25) and the p99 latency of
// the gateway's error answers once the breakers are open (target < 50 ms). Appends the figures to bench/RESULTS.md.
//
//   npm run build && node bench/retry-storm.mjs [--rate 200] [--seconds 20]
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort, startChild, stopAll, waitReady } from './lib/procs.mjs';

const argument = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const rate = argument('--rate', 200);
const seconds = argument('--seconds', 20);

async function main() {
  const [primaryPort, backupPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
  const primary = startChild('sim-primary', 0, process.execPath, ['dist/cli/main.js', 'sim', '--port', String(primaryPort), '--fault', 'status=503']);
  const backup = startChild('sim-backup', 0, process.execPath, ['dist/cli/main.js', 'sim', '--port', String(backupPort), '--fault', 'status=502']);
  await waitReady(primary, `http://127.0.0.1:${primaryPort}/health`);
  await waitReady(backup, `http://127.0.0.1:${backupPort}/health`);
  const directory = mkdtempSync(join(tmpdir(), 'bw-storm-'));
  const config = join(directory, 'breakwater.yaml');
  writeFileSync(
    config,
    [
      'logging: { level: warn }',
      `stores: { sqlite: { path: ${join(directory, 'state.db')} } }`,
      'providers:',
      `  - { name: primary, type: openai-compatible, base_url: "http://127.0.0.1:${primaryPort}/v1" }`,
      `  - { name: backup, type: openai-compatible, base_url: "http://127.0.0.1:${backupPort}/v1" }`,
      'routes:',
      '  - model: chat',
      '    candidates: [{ provider: primary, model: sim-fast }, { provider: backup, model: sim-fast }]',
    ].join('\n'),
  );
  const gateway = startChild('gateway', 0, process.execPath, ['dist/cli/main.js', 'serve', '--config', config, '--port', String(gatewayPort)]);
  await waitReady(gateway, `http://127.0.0.1:${gatewayPort}/health`);

  const run = (duration) =>
    autocannon({
      url: `http://127.0.0.1:${gatewayPort}/v1/chat/completions`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'storm' }] }),
      connections: 20,
      overallRate: rate,
      duration,
    });
  const opening = await run(2); // the breakers open during these first seconds
  const measured = await run(seconds);
  // The peer in the same run: GET /health at the same rate shows what the load generator and this machine add.
  const peer = await autocannon({ url: `http://127.0.0.1:${gatewayPort}/health`, connections: 20, overallRate: rate, duration: 5 });
  const stats = async (port) => (await (await fetch(`http://127.0.0.1:${port}/sim/stats`)).json()).chat;
  const attempts = (await stats(primaryPort)) + (await stats(backupPort));
  const requests = opening.requests.total + measured.requests.total;
  const result = {
    rate,
    seconds,
    requests,
    attempts,
    ratio: attempts / requests,
    p50: measured.latency.p50,
    p99: measured.latency.p99,
    healthP50: peer.latency.p50,
    healthP99: peer.latency.p99,
    non503: measured.non2xx === measured.requests.total ? 0 : measured.requests.total - measured.non2xx,
  };
  console.log(JSON.stringify(result));
  const section = [
    '',
    `## Retry storm — ${new Date().toISOString()}`,
    '',
    `Command: \`node bench/retry-storm.mjs --rate ${rate} --seconds ${seconds}\` (node ${process.version}). Two simulated upstreams`,
    'answering 503 and 502 to everything; one route over both; 20 connections at a fixed overall rate; 2 s to let',
    'the breakers open, then the measured run. Attempts counted on the simulators.',
    '',
    '| client requests | upstream attempts | attempts / request (target ≤ 1.25) | error p50 | error p99 (target < 50 ms) | peer: GET /health p50 / p99, same rate |',
    '| --- | --- | --- | --- | --- | --- |',
    `| ${requests} | ${attempts} | ${result.ratio.toFixed(3)} | ${result.p50} ms | ${result.p99} ms | ${result.healthP50} ms / ${result.healthP99} ms |`,
    '',
  ].join('\n');
  appendFileSync('bench/RESULTS.md', section);
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
