// promtool (Debian package `prometheus`) checks the rules' PromQL and runs their unit tests when it is installed.
// The metric contract itself is checked without it (metric-references.test.ts), so machines without it lose only the syntax check.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const available = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
// CI installs it (.ci/run): there a missing promtool is a failure, not a skip.
const required = process.env.CI === 'true';

test('promtool check rules and promtool test rules pass', { skip: available || required ? false : 'promtool not installed (apt-get install prometheus)' }, () => {
  assert.ok(available, 'promtool is required when CI=true (.ci/run installs the Debian package prometheus)');
  const check = spawnSync('promtool', ['check', 'rules', 'deploy/prometheus/alerts.yaml'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const unit = spawnSync('promtool', ['test', 'rules', 'alerts.test.yaml'], { cwd: 'deploy/prometheus', encoding: 'utf8' });
  assert.equal(unit.status, 0, unit.stdout + unit.stderr);
});
