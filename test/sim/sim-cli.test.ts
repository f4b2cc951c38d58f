// `breakwater sim`: prints where it listens, applies its flags, and exits cleanly on SIGTERM/SIGINT.

import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const entry = fileURLToPath(new URL('./fixtures/sim-cli-entry.ts', import.meta.url));

function startCli(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', entry, 'sim', ...args], { stdio: 'pipe' });
}

async function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  let output = '';
  for await (const chunk of child.stdout) {
    output += String(chunk);
    const newline = output.indexOf('\n');
    if (newline !== -1) return output.slice(0, newline);
  }
  throw new Error(`the CLI exited without printing a line: ${output}`);
}

describe('breakwater sim', () => {
  it('listens, applies --fault and --ttft-ms, and exits 0 on SIGTERM', async () => {
    const child = startCli(['--port', '0', '--fault', 'status=503;times=1', '--ttft-ms', '1']);
    try {
      const line = await firstLine(child);
      const match = /^breakwater sim listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      assert.ok(match, line);
      const url = match[1];
      const body = JSON.stringify({ model: 'sim-fast', messages: [{ role: 'user', content: 'hi' }] });
      const request = { method: 'POST', headers: { 'content-type': 'application/json' }, body };
      const first = await fetch(`${url}/v1/chat/completions`, request);
      await first.text();
      assert.equal(first.status, 503);
      const second = await fetch(`${url}/v1/chat/completions`, request);
      await second.text();
      assert.equal(second.status, 200);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses a bad --fault with a message and a non-zero exit', async () => {
    const child = startCli(['--port', '0', '--fault', 'nonsense']);
    let errorOutput = '';
    child.stderr.on('data', (chunk) => (errorOutput += String(chunk)));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2);
    assert.match(errorOutput, /unknown fault key "nonsense"/);
  });
});
