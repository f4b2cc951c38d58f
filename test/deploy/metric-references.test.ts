// The metrics contract: the documented catalogue, what a real gateway exports after traffic, and every name the
// alert rules, the Grafana dashboard and the Kubernetes manifests use must agree. Pending metrics (features still
// being built) are allowed in rules only while the catalogue lists them as pending — and not once they export.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { baseName, metricNames, readCatalogue } from './promql-names.js';

const catalogue = readCatalogue();
const documented = new Map(catalogue.map((entry) => [entry.name, entry]));
const histograms = new Set(catalogue.filter((entry) => entry.type === 'histogram').map((entry) => entry.name));
/** Series Prometheus makes itself, not the gateway. */
const prometheusBuiltins = new Set(['up']);

let gateway: TestGateway;
let exposition = '';
const usage = { prompt: 0, completion: 0 };

function series(name: string): Array<{ labels: string; value: number }> {
  return exposition
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const space = line.lastIndexOf(' ');
      return { labels: line.slice(name.length, space), value: Number(line.slice(space + 1)) };
    });
}

before(async () => {
  // Every feature that exports metrics is on, and the traffic mix touches each: success, stream, retry, fallback,
  // cache hit, rate-limit 429, unknown model, upstream 400.
  gateway = await startTestGateway({
    providers: [
      { name: 'sim', type: 'sim', models: ['sim-fast', 'limited'] },
      { name: 'broken', type: 'sim', models: [], faults: ['status=503'] },
      { name: 'flaky', type: 'sim', models: [], faults: ['status=503;times=1'] },
    ],
    routes: [
      { model: 'chat-fallback', candidates: [{ provider: 'broken', model: 'sim-fast' }, { provider: 'sim', model: 'sim-fast' }] },
      { model: 'chat-retry', candidates: [{ provider: 'flaky', model: 'sim-fast' }] },
    ],
    reliability: { backoff: { base_ms: 10, cap_ms: 100 } },
    cache: { enabled: true, mode: 'always' },
    limits: { models: { limited: { rpm: 1 } } },
  });
  const chat = (body: object, headers: Record<string, string> = {}) => postJson(`${gateway.url}/v1/chat/completions`, body, headers);
  for (let index = 0; index < 3; index++) {
    const response = await chat({ model: 'sim-fast', messages: [{ role: 'user', content: `hello ${index}` }] });
    assert.equal(response.status, 200);
    const reported = (response.json() as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    usage.prompt += reported.prompt_tokens;
    usage.completion += reported.completion_tokens;
  }
  const stream = await chat({ model: 'sim-fast', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream' }] });
  assert.equal(stream.status, 200);
  assert.equal((await chat({ model: 'sim-fast', messages: [{ role: 'user', content: 'hello 0' }] })).headers.get('x-breakwater-cache'), 'hit');
  assert.equal((await chat({ model: 'chat-retry', messages: [{ role: 'user', content: 'retry me' }] })).headers.get('x-breakwater-attempts'), '2');
  assert.equal((await chat({ model: 'chat-fallback', messages: [{ role: 'user', content: 'fall back' }] })).headers.get('x-breakwater-provider'), 'sim');
  assert.equal((await chat({ model: 'limited', messages: [{ role: 'user', content: 'one' }] })).status, 200);
  assert.equal((await chat({ model: 'limited', messages: [{ role: 'user', content: 'two' }] })).status, 429);
  assert.equal((await chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] })).status, 404);
  assert.equal((await chat({ model: 'sim-fast', messages: [{ role: 'user', content: 'x' }] }, { 'x-sim-fault': 'status=400' })).status, 400);
  exposition = await (await fetch(`${gateway.url}/metrics`)).text();
});

after(() => gateway.close());

test('every metric the catalogue marks exported is in /metrics after traffic', () => {
  const exported = new Set([...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => match[1] as string));
  for (const entry of catalogue) {
    if (entry.status === 'exported') assert.ok(exported.has(entry.name), `${entry.name} is exported`);
  }
});

test('everything /metrics exports is documented with its type (process metrics as one family)', (context) => {
  const landed: string[] = [];
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name = '', type = ''] = match;
    if (name.startsWith('breakwater_process_')) continue;
    const entry = documented.get(name);
    assert.ok(entry, `${name} is exported but missing from docs/METRICS.md`);
    assert.equal(entry.type, type, `${name} type`);
    if (entry.status !== 'exported') landed.push(name);
  }
  // Features land one by one in parallel; a landed metric still marked pending is reported, and flipping it to
  // `exported` makes the first test above enforce it from then on.
  if (landed.length > 0) context.diagnostic(`exported now, still marked pending in docs/METRICS.md (flip them): ${landed.join(', ')}`);
});

test('the counts match the traffic: requests by status, tokens as the upstream reported them', () => {
  const requests = series('breakwater_requests_total');
  const byStatus = (status: string) => requests.filter((entry) => entry.labels.includes(`status="${status}"`)).reduce((sum, entry) => sum + entry.value, 0);
  assert.equal(byStatus('200'), 8);
  assert.equal(byStatus('429'), 1);
  assert.equal(byStatus('404'), 1);
  assert.equal(byStatus('400'), 1);
  const tokens = series('breakwater_tokens_total');
  const input = tokens.filter((entry) => entry.labels.includes('type="input"')).reduce((sum, entry) => sum + entry.value, 0);
  const output = tokens.filter((entry) => entry.labels.includes('type="output"')).reduce((sum, entry) => sum + entry.value, 0);
  assert.ok(input > usage.prompt && output > usage.completion, 'the stream added its tokens to those of the three JSON calls');
  assert.ok(series('breakwater_upstream_errors_total').some((entry) => entry.value >= 1), 'the upstream 400 is counted');
  const durationCount = series('breakwater_request_duration_seconds_count').reduce((sum, entry) => sum + entry.value, 0);
  assert.equal(durationCount, 11);
  assert.ok(series('breakwater_time_to_first_token_seconds_count').reduce((sum, entry) => sum + entry.value, 0) >= 1);
  assert.ok(series('breakwater_process_nodejs_eventloop_lag_p99_seconds').length === 1);
});

test('the counts match the traffic: retries, fallbacks, breakers, cache, rate limits, overhead, streams', () => {
  const sum = (name: string, ...labels: string[]) => series(name).filter((entry) => labels.every((label) => entry.labels.includes(label))).reduce((total, entry) => total + entry.value, 0);
  assert.equal(sum('breakwater_upstream_attempts_total', 'role="retry"', 'outcome="success"'), 1);
  assert.equal(sum('breakwater_upstream_attempts_total', 'role="fallback"', 'outcome="success"'), 1);
  assert.equal(sum('breakwater_upstream_attempts_total', 'provider="broken"', 'outcome="failure"'), 1);
  assert.equal(series('breakwater_breaker_state').length, 4, 'every configured deployment has a breaker state');
  assert.equal(sum('breakwater_cache_lookups_total', 'outcome="hit"'), 1);
  assert.equal(sum('breakwater_rate_limited_total'), 1);
  assert.equal(sum('breakwater_streams_in_flight'), 0, 'the stream ended');
  assert.ok(sum('breakwater_gateway_overhead_seconds_count') >= 5, 'non-streamed requests that reached an upstream are measured');
  assert.ok(sum('breakwater_spend_usd_total') > 0);
});

function recordingRules(): Set<string> {
  const rules = parse(readFileSync('deploy/prometheus/alerts.yaml', 'utf8')) as { groups: Array<{ rules: Array<{ record?: string }> }> };
  return new Set(rules.groups.flatMap((group) => group.rules.map((rule) => rule.record).filter((name): name is string => name !== undefined)));
}

function assertKnown(name: string, where: string, recorded: ReadonlySet<string>): void {
  if (recorded.has(name) || prometheusBuiltins.has(name)) return;
  const base = baseName(name, histograms);
  assert.ok(documented.has(base) || base.startsWith('breakwater_process_') && exposition.includes(`# TYPE ${base} `), `${where}: ${name} is not a metric the gateway exports or plans (docs/METRICS.md)`);
  if (base.startsWith('breakwater_process_')) assert.ok(exposition.includes(`# TYPE ${base} `), `${where}: ${base} is exported`);
}

test('alert and recording rules name only catalogued metrics', () => {
  const rules = parse(readFileSync('deploy/prometheus/alerts.yaml', 'utf8')) as { groups: Array<{ rules: Array<{ expr: string; alert?: string; record?: string }> }> };
  const recorded = recordingRules();
  let checked = 0;
  for (const group of rules.groups) {
    for (const rule of group.rules) {
      const names = metricNames(rule.expr);
      assert.ok(names.length > 0, `${rule.alert ?? rule.record}: names some metric`);
      for (const name of names) assertKnown(name, `${rule.alert ?? rule.record}`, recorded);
      checked++;
    }
  }
  assert.ok(checked > 20);
});

test('the Grafana dashboard names only catalogued metrics and covers the catalogue', () => {
  const dashboard = JSON.parse(readFileSync('deploy/grafana/breakwater-dashboard.json', 'utf8')) as {
    panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
    templating: { list: Array<{ definition?: string }> };
  };
  const recorded = recordingRules();
  const used = new Set<string>();
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      for (const name of metricNames(target.expr)) {
        assertKnown(name, `panel "${panel.title}"`, recorded);
        used.add(baseName(name, histograms));
      }
    }
  }
  for (const variable of dashboard.templating.list) {
    const name = /label_values\((\w+)/.exec(variable.definition ?? '')?.[1];
    if (name) assertKnown(name, 'dashboard variable', recorded);
  }
  for (const entry of catalogue) assert.ok(used.has(entry.name) || [...used].some((name) => name.startsWith(entry.name)), `the dashboard shows ${entry.name}`);
});

function filesUnder(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

test('every breakwater_* name anywhere in deploy/ (Helm, KEDA, rollouts, Compose) is catalogued', () => {
  const recorded = recordingRules();
  for (const file of filesUnder('deploy')) {
    if (!/\.(ya?ml|json|tpl)$/.test(file)) continue;
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/\bbreakwater_[a-z0-9_]+/g)) {
      const name = match[0];
      // Label values and file names also start with the project name; only metric-shaped names are checked.
      if (/^breakwater_(process_)?[a-z0-9_]+$/.test(name)) assertKnown(name, file, recorded);
    }
  }
});

test('the pending list, for whoever lands those features', (context) => {
  const pending = catalogue.filter((entry) => entry.status !== 'exported');
  context.diagnostic(`pending metrics: ${pending.map((entry) => `${entry.name} (${entry.status})`).join(', ') || 'none'}`);
  for (const entry of pending) assert.match(entry.status, /^pending: \S/, `${entry.name}: status is "exported" or "pending: <what feeds it>"`);
});
