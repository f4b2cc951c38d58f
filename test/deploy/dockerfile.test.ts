// Static checks of the container image recipe (Docker cannot run on CI machines): the rules a hadolint-style
// linter would enforce plus this project's own (non-root, healthcheck, tini, production deps only, no secrets).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { execForm, parseDockerfile, type Stage } from './dockerfile-parse.js';

const dockerfileText = readFileSync('deploy/docker/Dockerfile', 'utf8');
const dockerfile = parseDockerfile(dockerfileText);
const runtime = dockerfile.stages.at(-1) as Stage;
const ignored = readFileSync('.dockerignore', 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

function instructions(stage: Stage, keyword: string) {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

test('multi-stage: a build stage with dev dependencies and a separate runtime stage', () => {
  assert.ok(dockerfile.stages.length >= 2);
  const build = dockerfile.stages.find((stage) => stage.instructions.some((instruction) => /npm run build/.test(instruction.argument)));
  assert.ok(build, 'some stage runs npm run build');
  assert.ok(build.instructions.some((instruction) => instruction.keyword === 'RUN' && /npm ci(?!.*--omit=dev)/.test(instruction.argument)), 'the build stage installs dev dependencies');
  assert.notEqual(build, runtime, 'the build does not happen in the runtime stage');
});

test('every base image is pinned to a version (no latest, no bare major)', () => {
  for (const stage of dockerfile.stages) {
    const named = dockerfile.stages.some((other) => other.name === stage.image);
    if (named) continue; // FROM an earlier stage
    assert.match(stage.image, /(:\d+\.\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})$/, `pinned base image: ${stage.image || '(unresolved ARG)'}`);
    assert.ok(!stage.image.includes(':latest'));
  }
});

test('the runtime stage has production dependencies only, and no compiler', () => {
  const copies = instructions(runtime, 'COPY').map((instruction) => instruction.argument);
  const modules = copies.find((argument) => /node_modules/.test(argument));
  assert.ok(modules, 'node_modules are copied in');
  const from = /--from=(\S+)/.exec(modules)?.[1];
  const source = dockerfile.stages.find((stage) => stage.name === from);
  assert.ok(source, `node_modules come from a named stage (${String(from)})`);
  assert.ok(source.instructions.some((instruction) => instruction.keyword === 'RUN' && /npm ci\b.*--omit=dev/.test(instruction.argument)), 'that stage runs npm ci --omit=dev');
  assert.ok(!source.instructions.some((instruction) => /npm run build|COPY\s+src/.test(`${instruction.keyword} ${instruction.argument}`)), 'and builds nothing else');
  for (const instruction of instructions(runtime, 'RUN')) {
    assert.doesNotMatch(instruction.argument, /\b(g\+\+|gcc|make|python3|build-essential)\b/, `runtime installs no toolchain (line ${instruction.line})`);
  }
});

test('the process runs as a non-root user', () => {
  const user = instructions(runtime, 'USER').at(-1);
  assert.ok(user, 'USER is set in the runtime stage');
  assert.doesNotMatch(user.argument, /^(root|0)(:|$)/);
  const copiesAfterUser = runtime.instructions.slice(runtime.instructions.indexOf(user)).filter((instruction) => instruction.keyword === 'COPY' || instruction.keyword === 'ADD');
  assert.equal(copiesAfterUser.length, 0, 'application files are copied before USER, so the app cannot rewrite its own code');
});

test('HEALTHCHECK probes /health, and the port is exposed', () => {
  const health = instructions(runtime, 'HEALTHCHECK').at(-1);
  assert.ok(health);
  assert.match(health.argument, /--interval=\d+s/);
  assert.match(health.argument, /--timeout=\d+s/);
  const command = execForm(health.argument.slice(health.argument.indexOf('CMD') + 3));
  assert.ok(command, 'exec form (no shell in the probe)');
  assert.ok(command.join(' ').includes('/health'));
  assert.ok(instructions(runtime, 'EXPOSE').some((instruction) => instruction.argument.split(/\s+/).includes('8080')));
});

test('an init (tini) is PID 1 and the gateway itself gets SIGTERM', () => {
  const entrypoint = execForm(instructions(runtime, 'ENTRYPOINT').at(-1)?.argument ?? '');
  assert.ok(entrypoint, 'ENTRYPOINT in exec form');
  assert.match(entrypoint[0] ?? '', /tini$/);
  assert.ok(instructions(runtime, 'RUN').some((instruction) => /apt-get install[^&]*\btini\b/.test(instruction.argument)), 'tini is installed');
  const command = execForm(instructions(runtime, 'CMD').at(-1)?.argument ?? '');
  assert.ok(command, 'CMD in exec form: node receives signals directly, not through sh');
  assert.equal(command[0], 'node');
  const script = command[1] as string;
  assert.ok(existsSync(script.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts')), `${script} is built from a source file that exists`);
  const stopSignal = instructions(runtime, 'STOPSIGNAL').at(-1);
  if (stopSignal) assert.equal(stopSignal.argument, 'SIGTERM');
});

test('no secrets or downloads baked in', () => {
  for (const instruction of dockerfile.all) {
    if (instruction.keyword === 'ADD') assert.doesNotMatch(instruction.argument, /https?:\/\//, `ADD of a URL (line ${instruction.line}): use a pinned package instead`);
    if (instruction.keyword === 'ENV' || instruction.keyword === 'ARG') {
      assert.doesNotMatch(instruction.argument, /(KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL)\w*\s*=\s*\S/i, `no secret in ${instruction.keyword} (line ${instruction.line})`);
    }
    if (instruction.keyword === 'COPY') assert.doesNotMatch(instruction.argument, /\.env\b|\.pem\b|breakwater\.yaml/, `no secret files copied (line ${instruction.line})`);
    if (instruction.keyword === 'RUN') {
      assert.doesNotMatch(instruction.argument, /\b(curl|wget)\b/, `no downloads outside package managers (line ${instruction.line})`);
      assert.doesNotMatch(instruction.argument, /npm install\b/, `npm ci, not npm install: the lock file decides (line ${instruction.line})`);
      if (/apt-get install/.test(instruction.argument)) {
        assert.match(instruction.argument, /--no-install-recommends/, `line ${instruction.line}`);
        assert.match(instruction.argument, /rm -rf \/var\/lib\/apt\/lists/, `apt lists cleaned in the same layer (line ${instruction.line})`);
      }
    }
  }
  assert.doesNotMatch(dockerfileText, /\.(gguf|safetensors|bin|pt|onnx)\b/, 'no model weights');
});

test('.dockerignore keeps history, tests, env files, host node_modules and local state out of the context', () => {
  for (const entry of ['.git', 'test', '.env', 'node_modules', 'dist', '.breakwater']) assert.ok(ignored.includes(entry), `.dockerignore lists ${entry}`);
});

test('everything the Dockerfile copies from the context exists and is not ignored', () => {
  for (const stage of dockerfile.stages) {
    for (const instruction of instructions(stage, 'COPY')) {
      if (instruction.argument.includes('--from=')) continue;
      const parts = instruction.argument.split(/\s+/).filter((part) => !part.startsWith('--'));
      for (const source of parts.slice(0, -1)) {
        assert.ok(existsSync(source), `${source} exists (line ${instruction.line})`);
        assert.ok(!ignored.includes(source), `${source} is not excluded by .dockerignore`);
      }
    }
  }
});
