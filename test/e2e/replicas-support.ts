// Test support for multi-replica tests: gateway child processes (`breakwater serve`) sharing Redis and PostgreSQL.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Replica {
  process: ChildProcess;
  url: string;
  directory: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts `breakwater serve` with this YAML (a `{{dir}}` placeholder becomes the replica's own directory). */
export async function startReplica(yaml: string): Promise<Replica> {
  const directory = await mkdtemp(join(tmpdir(), 'bw-replica-'));
  const path = join(directory, 'breakwater.yaml');
  await writeFile(path, yaml.replaceAll('{{dir}}', directory));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', path, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output}`)), 25_000);
    const look = () => {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout.off('data', look);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', look);
    child.once('exit', () => reject(new Error(`gateway exited early:\n${output}`)));
  });
  return {
    process: child,
    url,
    directory,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Parsed JSON log lines of a replica's stdout. */
export function logLines(replica: Replica): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  for (const line of replica.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial last line
    }
  }
  return lines;
}
