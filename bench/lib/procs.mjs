// Child processes for the benchmark: started pinned to a core with `taskset`, tracked, and always stopped —
// at the end, on error, and on SIGINT/SIGTERM (run.mjs wires those to stopAll()). Nothing here outlives the run.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';

const live = new Set(); // every child started and not yet seen to exit

/** True when there are at least two cores and `taskset` works, so load generator and servers can be kept apart. */
export function canPin() {
  if (os.availableParallelism() < 2) return false;
  const probe = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
  return probe.status === 0;
}

let pinning = false;
/** Turns pinning on (run.mjs decides once, from canPin()). */
export function setPinning(on) {
  pinning = on;
}

/** Pins the calling process (run.mjs itself) to a core; a no-op without pinning. */
export function pinSelf(cpu) {
  if (pinning) spawnSync('taskset', ['-cp', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

/**
 * Starts `command args` on core `cpu` (through `taskset -c`, which execs, so the pid is the command's own).
 * stdout goes to /dev/null unless `captureStdout`; the last 8 KB of stderr are kept for error messages.
 */
export function startChild(name, cpu, command, args, { cwd, env, captureStdout = false } = {}) {
  const argv = pinning ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, args];
  const child = spawn(argv[0], argv[1], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', captureStdout ? 'pipe' : 'ignore', 'pipe'] });
  child.benchName = name;
  child.stderrTail = '';
  child.stdoutText = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => {
    child.stderrTail = (child.stderrTail + text).slice(-8192);
  });
  if (captureStdout) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => {
      // Bounded: the load worker prints one JSON line; anything past 1 MB is a bug, not data.
      if (child.stdoutText.length < 1_000_000) child.stdoutText += text;
    });
  }
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (error) => {
      live.delete(child);
      child.spawnError = error;
      resolve({ code: null, signal: null, error });
    });
  });
  live.add(child);
  return child;
}

function hasExited(child) {
  return child.exitCode !== null || child.signalCode !== null || child.spawnError !== undefined;
}

function within(promise, ms) {
  let timer;
  return Promise.race([promise.then(() => true), new Promise((resolve) => (timer = setTimeout(() => resolve(false), ms)))]).finally(() => clearTimeout(timer));
}

/** SIGTERM, then SIGKILL if the child is still there after `graceMs`. Resolves once it has exited (bounded). */
export async function stopChild(child, graceMs = 3000) {
  if (!child || hasExited(child)) return;
  child.kill('SIGTERM');
  if (await within(child.exited, graceMs)) return;
  child.kill('SIGKILL');
  await within(child.exited, 2000);
}

/** Stops every tracked child, all in parallel. */
export async function stopAll() {
  await Promise.all([...live].map((child) => stopChild(child)));
}

/** Last resort, synchronous (for process 'exit'): SIGKILL whatever is still tracked. */
export function killAllNow() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The pid of the tracked child's command (taskset has exec'd into it). */
export function pidOf(child) {
  return child.pid;
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released for the server to take). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls `url` every 100 ms until `accept(status)` holds, for at most `timeoutMs`. Fails at once if the child exits,
 * with its stderr tail, so a server that cannot start says why.
 */
export async function waitReady(child, url, { timeoutMs = 20_000, accept = () => true } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited(child)) throw new Error(`${child.benchName} exited before it was ready (${child.exitCode ?? child.signalCode ?? child.spawnError?.message}):\n${child.stderrTail}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (accept(response.status)) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${child.benchName} not ready at ${url} after ${timeoutMs} ms:\n${child.stderrTail}`);
}
