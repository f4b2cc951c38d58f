// The Compose stack, checked statically (Docker does not run on CI machines): services, healthchecks, start
// order, pinned images, mounted files that exist, no hard-coded secrets, and a gateway config that validates.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { tracingSettingsFromEnv } from '../../src/observability/tracing-settings.js';

const composeFile = 'deploy/compose/docker-compose.yaml';
const composeDirectory = dirname(composeFile);

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  profiles?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[]; interval: string; timeout: string; retries: number };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  read_only?: boolean;
}

const compose = parse(readFileSync(composeFile, 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;

function seconds(duration: string): number {
  const match = /^(\d+)(s|m)$/.exec(duration);
  assert.ok(match, `duration ${duration}`);
  return Number(match[1]) * (match[2] === 'm' ? 60 : 1);
}

test('the stack has the gateway, Redis, PostgreSQL, Prometheus and Grafana, and optional local model servers behind profiles', () => {
  for (const name of ['gateway', 'redis', 'postgres', 'prometheus', 'grafana']) assert.ok(services[name], name);
  assert.ok(services.ollama?.profiles?.includes('local-model'));
  assert.ok(services.vllm?.profiles?.includes('gpu'));
  assert.equal(services.gateway?.build?.dockerfile, 'deploy/docker/Dockerfile');
  assert.ok(existsSync(resolve(composeDirectory, services.gateway?.build?.context ?? '', services.gateway?.build?.dockerfile ?? '')), 'the build context holds the Dockerfile');
});

test('every service has a healthcheck, and dependents wait for service_healthy', () => {
  for (const [name, service] of Object.entries(services)) {
    assert.ok(service.healthcheck, `${name} has a healthcheck`);
    assert.ok(Array.isArray(service.healthcheck.test) && service.healthcheck.test[0] === 'CMD', `${name}: exec-form healthcheck`);
    for (const [dependency, condition] of Object.entries(service.depends_on ?? {})) {
      assert.ok(services[dependency], `${name} depends on an existing service ${dependency}`);
      assert.equal(condition.condition, 'service_healthy', `${name} waits for ${dependency} to be healthy`);
    }
  }
  assert.deepEqual(Object.keys(services.gateway?.depends_on ?? {}).sort(), ['postgres', 'redis']);
  assert.ok(services.prometheus?.depends_on?.gateway);
  assert.ok(services.grafana?.depends_on?.prometheus);
  assert.ok(services.gateway?.healthcheck?.test.join(' ').includes('/ready'), 'the gateway is healthy when it is ready to serve');
});

test('images are pinned to versions', () => {
  for (const [name, service] of Object.entries(services)) {
    if (!service.image || service.build) continue;
    assert.match(service.image, /:v?\d+\.\d+(\.\d+)?(-[\w.]+)?$/, `${name}: ${service.image} (at least major.minor, never latest)`);
  }
});

test('no secret is written in the file: secrets are required ${VAR:?} references filled from .env', () => {
  for (const [name, service] of Object.entries(services)) {
    for (const [variable, value] of Object.entries(service.environment ?? {})) {
      if (!/(KEY|SECRET|TOKEN|PASSWORD)/.test(variable)) continue;
      assert.match(String(value), /^\$\{[A-Z_]+(:\?[^}]*|:-)?\}$/, `${name}.${variable} must reference the environment`);
    }
  }
  assert.match(services.gateway?.environment?.BREAKWATER_MASTER_KEY ?? '', /^\$\{BREAKWATER_MASTER_KEY:\?/, 'the master key is required');
  const example = readFileSync('deploy/compose/example.env', 'utf8');
  for (const line of example.split('\n')) {
    if (/^(BREAKWATER_MASTER_KEY|POSTGRES_PASSWORD|GRAFANA_ADMIN_PASSWORD|OPENAI_API_KEY|HUGGING_FACE_HUB_TOKEN)=/.test(line)) assert.match(line, /=$/, `example.env leaves ${line.split('=')[0]} empty`);
  }
});

test('every file mounted from the repository exists', () => {
  for (const [name, service] of Object.entries(services)) {
    for (const volume of service.volumes ?? []) {
      const source = volume.split(':')[0] as string;
      if (!source.startsWith('.')) {
        assert.ok(compose.volumes[source] !== undefined, `${name}: named volume ${source} is declared`);
        continue;
      }
      assert.ok(existsSync(resolve(composeDirectory, source)), `${name}: ${source} exists`);
    }
  }
});

test('Prometheus scrapes the gateway and loads the alert rules; Grafana gets the datasource and the dashboard', () => {
  const prometheus = parse(readFileSync('deploy/compose/prometheus.yml', 'utf8')) as { rule_files: string[]; scrape_configs: Array<{ metrics_path: string; static_configs: Array<{ targets: string[] }> }> };
  assert.ok(prometheus.scrape_configs.some((job) => job.metrics_path === '/metrics' && job.static_configs.some((config) => config.targets.includes('gateway:8080'))));
  const rulesMount = services.prometheus?.volumes?.find((volume) => volume.includes('alerts.yaml'));
  assert.ok(rulesMount, 'the alert rules are mounted');
  const mountedAt = rulesMount.split(':')[1] as string;
  assert.ok(prometheus.rule_files.some((pattern) => new RegExp(`^${pattern.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`).test(mountedAt)), 'rule_files matches the mounted rules');
  const datasource = parse(readFileSync('deploy/compose/grafana/provisioning/datasources/prometheus.yaml', 'utf8')) as { datasources: Array<{ type: string; url: string }> };
  assert.deepEqual(datasource.datasources.map((entry) => [entry.type, entry.url]), [['prometheus', 'http://prometheus:9090']]);
  const dashboards = parse(readFileSync('deploy/compose/grafana/provisioning/dashboards/breakwater.yaml', 'utf8')) as { providers: Array<{ options: { path: string } }> };
  const dashboardMount = services.grafana?.volumes?.find((volume) => volume.includes('breakwater-dashboard.json'));
  assert.ok(dashboardMount?.split(':')[1]?.startsWith(`${dashboards.providers[0]?.options.path}/`), 'the dashboard is mounted where the provider looks');
});

test('the gateway config validates, and Compose gives the gateway longer to stop than it needs to drain', async () => {
  const { config } = await loadConfig({
    path: 'deploy/compose/breakwater.yaml',
    environment: { BREAKWATER_MASTER_KEY: 'compose-test-master-key-0123', POSTGRES_PASSWORD: 'compose-test-password' },
  });
  assert.equal(config.server.host, '0.0.0.0');
  assert.ok(config.auth.master_key, 'a non-loopback listener has a master key');
  assert.equal(config.stores.redis?.url, 'redis://redis:6379/0');
  const needed = config.server.shutdown_delay_seconds + config.server.drain_seconds;
  assert.ok(seconds(services.gateway?.stop_grace_period ?? '10s') > needed, `stop_grace_period above ${needed}s`);
  assert.equal(services.gateway?.read_only, true);
  assert.ok(services.gateway?.volumes?.some((volume) => volume.endsWith(':/app/.breakwater')), 'the only writable path is the data volume');
});

/**
 * What Compose makes of `${VAR}` and `${VAR:-default}` with the variables of an .env file. A required `${VAR:?message}`
 * left empty comes out empty here (Compose would refuse to start; the test above checks those are required).
 */
function composeValue(value: string, dotEnv: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_whole, name: string, operator?: string, fallback?: string) => {
    const set = dotEnv[name];
    if (set !== undefined && set !== '') return set;
    return operator === '-' ? (fallback ?? '') : '';
  });
}

test('with a collector set in .env, the gateway traces one request in ten (a caller\'s sampled trace always), and .env can change it', () => {
  const dotEnv = Object.fromEntries(
    readFileSync('deploy/compose/example.env', 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const environment = (overrides: Record<string, string>) =>
    Object.fromEntries(Object.entries(services.gateway?.environment ?? {}).map(([name, value]) => [name, composeValue(String(value), { ...dotEnv, ...overrides })]));
  assert.equal(tracingSettingsFromEnv(environment({})).enabled, false, 'tracing is off while OTEL_EXPORTER_OTLP_ENDPOINT is empty');
  const on = tracingSettingsFromEnv(environment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }));
  assert.equal(on.enabled, true);
  assert.equal(on.warning, undefined);
  assert.deepEqual(on.sampler, { parentBased: true, ratio: 0.1 });
  assert.deepEqual(tracingSettingsFromEnv(environment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_SAMPLER_ARG: '0.02' })).sampler, { parentBased: true, ratio: 0.02 });
});
