// What the benchmark reads from /proc: the machine's description, a process's resident memory, and the CPU time
// spent by processes that are not ours (other work on the machine skews a run; it is measured and reported).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function machineInfo() {
  let cpuModel = 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) cpuModel = match[1].trim();
  } catch {
    // not Linux: keep 'unknown'
  }
  let nproc = String(os.availableParallelism());
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // keep Node's count
  }
  return { nproc, cpuModel, memGB: (os.totalmem() / 1e9).toFixed(1), kernel: os.release(), node: process.version };
}

/** The git commit under test, and whether src/ has uncommitted changes (others edit it while we measure). */
export function gitInfo(cwd) {
  const run = (args) => spawnSync('git', args, { cwd, encoding: 'utf8' });
  const head = run(['rev-parse', '--short', 'HEAD']);
  if (head.status !== 0) return { commit: 'unknown', dirtySrc: false };
  const status = run(['status', '--porcelain', '--', 'src']);
  return { commit: head.stdout.trim(), dirtySrc: status.stdout.trim().length > 0 };
}

/** VmRSS of a process in bytes (from /proc/<pid>/status, which gives kB), or undefined once it is gone. */
export function rssBytes(pid) {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const clockTicks = (() => {
  const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const value = Number(result.stdout?.trim());
  return Number.isFinite(value) && value > 0 ? value : 100;
})();

/** Machine-wide CPU ticks: busy (user+nice+system+irq+softirq) and steal (time the hypervisor gave to others). */
function machineTicks() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal = 0] = fields;
  return { busy: user + nice + system + irq + softirq, steal };
}

/** user+system ticks of one process (fields 14 and 15 of /proc/<pid>/stat), 0 once it is gone. */
function processTicks(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/**
 * Starts measuring CPU use by processes other than ours. `ourPids()` lists our live processes (read at both ends);
 * a process of ours that exits inside the window (the load worker) reports its own CPU seconds, passed to sample().
 * sample() gives the average number of cores that other processes, and the hypervisor's steal, took in the window.
 * Kernel work for our own loopback traffic that lands outside our processes counts as "other" too, so a quiet
 * machine still shows a small baseline.
 */
export function watchInterference(ourPids) {
  const startedAt = performance.now();
  const machine0 = machineTicks();
  const ours0 = new Map(ourPids().map((pid) => [pid, processTicks(pid)]));
  return {
    sample(exitedOursCpuSeconds = 0) {
      const seconds = (performance.now() - startedAt) / 1000;
      const machine1 = machineTicks();
      let oursTicks = 0;
      for (const pid of ourPids()) oursTicks += processTicks(pid) - (ours0.get(pid) ?? 0);
      const otherSeconds = Math.max(0, (machine1.busy - machine0.busy - oursTicks) / clockTicks - exitedOursCpuSeconds);
      return { otherCores: otherSeconds / seconds, stealCores: (machine1.steal - machine0.steal) / clockTicks / seconds, seconds };
    },
  };
}
