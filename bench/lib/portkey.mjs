// The comparison peer: Portkey's open-source gateway (@portkey-ai/gateway), installed from the npm registry into
// bench/.peers/portkey/ (gitignored) the first time the benchmark runs, and run with its own Node server.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const portkeyVersion = '1.15.2';
// A plain install resolves newer hono/@hono/node-server than 1.15.2 was built against, and with those its streaming
// path answers HTTP 500. These are the versions the gateway's own lockfile pins; `overrides` forces them everywhere.
const pinned = { hono: '4.9.7', '@hono/node-server': '1.13.5' };

function installedVersion(prefix, name) {
  try {
    return JSON.parse(readFileSync(path.join(prefix, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** Installs the peer when missing or at other versions; returns the path of its Node server entry point. */
export function ensurePortkey(prefix, log) {
  const entry = path.join(prefix, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
  const wanted = { '@portkey-ai/gateway': portkeyVersion, ...pinned };
  const ok = Object.entries(wanted).every(([name, version]) => installedVersion(prefix, name) === version) && existsSync(entry);
  if (ok) return entry;

  log(`installing @portkey-ai/gateway@${portkeyVersion} (hono ${pinned.hono}, @hono/node-server ${pinned['@hono/node-server']}) into ${path.relative(process.cwd(), prefix)}/ …`);
  mkdirSync(prefix, { recursive: true });
  const manifest = { name: 'breakwater-bench-portkey-peer', private: true, version: '0.0.0', description: 'Written by bench/lib/portkey.mjs', dependencies: wanted, overrides: pinned };
  writeFileSync(path.join(prefix, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  // --ignore-scripts: the package's only script is a `patch-package` postinstall, and it ships no patches.
  const result = spawnSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
  if (result.status !== 0) throw new Error(`npm install of the Portkey peer failed (exit ${result.status ?? result.signal ?? result.error?.message})`);
  for (const [name, version] of Object.entries(wanted)) {
    const got = installedVersion(prefix, name);
    if (got !== version) throw new Error(`Portkey peer: ${name} is ${got ?? 'missing'} after install, wanted ${version}`);
  }
  if (!existsSync(entry)) throw new Error(`Portkey peer: ${entry} not found after install`);
  return entry;
}

/** Arguments for its server: `--headless` skips the log-viewer UI; the port is the only other option it reads. */
export function portkeyArgs(entry, port) {
  return [entry, `--port=${port}`, '--headless'];
}

/** Request headers that route a call through Portkey to the simulator as an OpenAI-compatible custom host. */
export function portkeyHeaders(upstreamOrigin) {
  return { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstreamOrigin}/v1`, authorization: 'Bearer sk-bench' };
}
