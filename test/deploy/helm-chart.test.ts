// The Helm chart, rendered with default values and with everything on (values-everything.yaml): every manifest
// validates against the Kubernetes schemas, and the operational rules hold (probes, shutdown budget, non-root,
// read-only root filesystem, anti-affinity, PDB, autoscaling on in-flight requests, canary steps and analysis).
// Rendering uses test/deploy/helm-render.ts (Helm is not packaged for Debian); `helm template` is the reference.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { validateConfig } from '../../src/config/load.js';
import { interpolate } from '../../src/config/interpolate.js';
import { tracingSettingsFromEnv } from '../../src/observability/tracing-settings.js';
import { loadChart, renderChart, RenderFailure, type RenderOptions } from './helm-render.js';
import { validateManifest } from './kubernetes-schemas.js';

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; spec?: Record<string, unknown>; data?: Record<string, string> } & Record<string, unknown>;

const chart = loadChart('deploy/helm/breakwater');
const everything = parse(readFileSync('deploy/helm/breakwater/values-everything.yaml', 'utf8')) as Record<string, unknown>;

function render(options: RenderOptions = {}): Manifest[] {
  const manifests: Manifest[] = [];
  for (const [file, text] of renderChart(chart, { releaseName: 'bw', namespace: 'llm', ...options })) {
    for (const document of parseAllDocuments(text)) {
      assert.equal(document.errors.length, 0, `${file}: ${document.errors.map((error) => error.message).join('; ')}`);
      const manifest = document.toJS() as Manifest | null;
      if (manifest) manifests.push(manifest);
    }
  }
  return manifests;
}

function only(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((manifest) => manifest.kind === kind && (name === undefined || manifest.metadata.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name ? ` ${name}` : ''}`);
  return found[0] as Manifest;
}

// The bits of a pod spec the checks read.
interface Container {
  name: string;
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
}
interface PodSpec {
  terminationGracePeriodSeconds: number;
  securityContext: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes: Array<{ name: string; emptyDir?: object; configMap?: { name: string } }>;
  affinity?: { podAntiAffinity?: object };
  nodeSelector?: Record<string, string>;
  tolerations?: object[];
}
const podSpec = (manifest: Manifest) => (manifest.spec as { template: { spec: PodSpec } }).template.spec;

for (const [label, values] of [['default values', {}], ['everything on', everything]] as const) {
  test(`${label}: every rendered manifest validates against its Kubernetes schema`, () => {
    const manifests = render({ values });
    assert.ok(manifests.length >= 5);
    for (const manifest of manifests) {
      assert.doesNotThrow(() => validateManifest(manifest), `${manifest.kind} ${manifest.metadata.name}`);
      assert.match(manifest.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'DNS-1123 name');
    }
    const names = manifests.map((manifest) => `${manifest.kind}/${manifest.metadata.name}`);
    assert.equal(new Set(names).size, names.length, `no duplicate objects: ${names.join(', ')}`);
  });

  test(`${label}: the mounted breakwater.yaml is a valid gateway config, and the pod may take longer to stop than it needs to drain`, () => {
    const manifests = render({ values });
    const configMap = only(manifests, 'ConfigMap');
    const raw = interpolate(parse(configMap.data?.['breakwater.yaml'] ?? ''), { BREAKWATER_MASTER_KEY: 'helm-test-master-key-0123', POSTGRES_PASSWORD: 'x' });
    const config = validateConfig(raw);
    assert.equal(config.server.host, '0.0.0.0');
    assert.ok(config.auth.master_key);
    const workload = manifests.find((manifest) => manifest.kind === 'Deployment' || manifest.kind === 'Rollout') as Manifest;
    const spec = podSpec(workload);
    const gateway = spec.containers.find((container) => container.name === 'gateway') as Container;
    const preStop = Number(gateway.lifecycle?.preStop?.exec?.command.at(-1));
    assert.ok(preStop > 0, 'preStop sleeps');
    assert.ok(spec.terminationGracePeriodSeconds > preStop + config.server.shutdown_delay_seconds + config.server.drain_seconds);
    assert.ok(gateway.env?.some((variable) => variable.name === 'BREAKWATER_CONFIG' && variable.value === '/etc/breakwater/breakwater.yaml'));
    const masterKey = gateway.env?.find((variable) => variable.name === 'BREAKWATER_MASTER_KEY');
    assert.equal(masterKey?.valueFrom?.secretKeyRef?.name, 'breakwater-secrets', 'the master key comes from the Secret, never from values');
  });

  test(`${label}: probes, resources, non-root, read-only root filesystem, anti-affinity, PDB, Service, ServiceMonitor`, () => {
    const manifests = render({ values });
    const workload = manifests.find((manifest) => manifest.kind === 'Deployment' || manifest.kind === 'Rollout') as Manifest;
    const spec = podSpec(workload);
    const gateway = spec.containers[0] as Container;
    assert.equal(gateway.livenessProbe?.httpGet?.path, '/health');
    assert.equal(gateway.readinessProbe?.httpGet?.path, '/ready');
    assert.ok(gateway.resources?.requests?.cpu && gateway.resources.requests.memory && gateway.resources.limits?.memory);
    assert.equal(spec.securityContext.runAsNonRoot, true);
    assert.equal(gateway.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(gateway.securityContext?.allowPrivilegeEscalation, false);
    const dataMount = gateway.volumeMounts?.find((mount) => mount.mountPath === '/app/.breakwater');
    assert.ok(spec.volumes.find((volume) => volume.name === dataMount?.name)?.emptyDir, '.breakwater is a writable emptyDir');
    assert.ok(spec.affinity?.podAntiAffinity);
    assert.ok(only(manifests, 'PodDisruptionBudget').spec?.maxUnavailable !== undefined);
    const service = manifests.find((manifest) => manifest.kind === 'Service' && manifest.metadata.name === 'bw-breakwater') as Manifest;
    assert.deepEqual((service.spec?.selector as Record<string, string>)['app.kubernetes.io/instance'], 'bw');
    const monitor = only(manifests, 'ServiceMonitor');
    assert.equal((monitor.spec?.endpoints as Array<{ path: string }>)[0]?.path, '/metrics');
  });
}

test('default values: a Deployment with an HPA on in-flight requests per pod and a gentle scale-down', () => {
  const manifests = render();
  assert.deepEqual(manifests.map((manifest) => manifest.kind).sort(), ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service', 'ServiceMonitor']);
  const hpa = only(manifests, 'HorizontalPodAutoscaler');
  const spec = hpa.spec as { scaleTargetRef: { kind: string; name: string }; metrics: Array<{ type: string; pods: { metric: { name: string } } }>; behavior: { scaleDown: { stabilizationWindowSeconds: number } } };
  assert.deepEqual([spec.scaleTargetRef.kind, spec.scaleTargetRef.name], ['Deployment', 'bw-breakwater']);
  assert.deepEqual(spec.metrics.map((metric) => [metric.type, metric.pods.metric.name]), [['Pods', 'breakwater_requests_in_flight']]);
  assert.ok(spec.behavior.scaleDown.stabilizationWindowSeconds >= 60);
  const adapter = parse(readFileSync('deploy/k8s/prometheus-adapter-values.yaml', 'utf8')) as { rules: { custom: Array<{ name: { as: string } }> } };
  assert.ok(adapter.rules.custom.some((rule) => rule.name.as === 'breakwater_requests_in_flight'), 'prometheus-adapter serves the metric the HPA reads');
  assert.equal(only(manifests, 'Deployment').spec?.replicas, undefined, 'the HPA owns the replica count');
});

test('everything on: Rollout canary 5→25→50→100 with analysis, KEDA instead of the HPA, ExternalSecret, worker, vLLM on GPUs', () => {
  const manifests = render({ values: everything });
  assert.ok(!manifests.some((manifest) => manifest.kind === 'HorizontalPodAutoscaler'), 'KEDA owns scaling');
  assert.ok(!manifests.some((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === 'bw-breakwater'), 'the Rollout replaces the Deployment');
  const rollout = only(manifests, 'Rollout');
  const canary = (rollout.spec?.strategy as { canary: { steps: Array<{ setWeight?: number; pause?: { duration: string } }>; analysis: { templates: Array<{ templateName: string }> } } }).canary;
  assert.deepEqual(canary.steps.filter((step) => step.setWeight !== undefined).map((step) => step.setWeight), [5, 25, 50, 100]);
  canary.steps.forEach((step, index) => {
    if (step.setWeight !== undefined && step.setWeight < 100) assert.ok(canary.steps[index + 1]?.pause?.duration, `a pause after ${step.setWeight} %`);
  });
  const analysis = only(manifests, 'AnalysisTemplate');
  assert.equal(canary.analysis.templates[0]?.templateName, analysis.metadata.name);
  const metrics = analysis.spec?.metrics as Array<{ name: string; provider: { prometheus: { query: string } } }>;
  assert.deepEqual(metrics.map((metric) => metric.name), ['error-ratio', 'p99-latency', 'cost-per-request']);
  assert.match(metrics[2]?.provider.prometheus.query ?? '', /breakwater_spend_usd_total/);
  for (const metric of metrics) assert.match(metric.provider.prometheus.query, /\{\{args\.canary-hash\}\}/, 'queries only the canary pods');
  const scaled = only(manifests, 'ScaledObject').spec as { minReplicaCount: number; scaleTargetRef: { kind: string }; triggers: Array<{ type: string; metadata: { query: string } }> };
  assert.ok(scaled.minReplicaCount >= 1);
  assert.equal(scaled.scaleTargetRef.kind, 'Rollout');
  assert.equal(scaled.triggers[0]?.type, 'prometheus');
  assert.match(scaled.triggers[0]?.metadata.query ?? '', /breakwater_requests_in_flight\{namespace="llm",service="bw-breakwater"\}/);
  const externalSecret = only(manifests, 'ExternalSecret');
  assert.equal((externalSecret.spec?.target as { name: string }).name, 'breakwater-secrets');
  const worker = only(manifests, 'Deployment', 'bw-breakwater-worker');
  assert.ok((podSpec(worker).containers[0] as { args: string[] } & Container).args.includes('worker'));
  const vllm = only(manifests, 'StatefulSet');
  const vllmPod = podSpec(vllm);
  assert.equal(vllmPod.containers[0]?.resources?.limits?.['nvidia.com/gpu'], '1');
  assert.ok(vllmPod.nodeSelector && vllmPod.tolerations?.length);
  assert.ok((vllm.spec?.volumeClaimTemplates as unknown[]).length === 1, 'a model cache volume per replica');
  // Tracing to the collector, one request in ten (a caller's sampled trace always), as the gateway reads its env.
  const gateway = podSpec(rollout).containers.find((container) => container.name === 'gateway') as Container;
  const tracing = tracingSettingsFromEnv(Object.fromEntries((gateway.env ?? []).filter((variable) => variable.value !== undefined).map((variable) => [variable.name, variable.value])));
  assert.equal(tracing.enabled, true);
  assert.equal(tracing.warning, undefined);
  assert.deepEqual(tracing.sampler, { parentBased: true, ratio: 0.1 });
});

test('the chart refuses values that would cut streams or cold-start, and requires the Secret name', () => {
  assert.throws(() => render({ values: { terminationGracePeriodSeconds: 30 } }), (error) => error instanceof RenderFailure && /terminationGracePeriodSeconds \(30\) must exceed .* \(40\)/.test(error.message));
  assert.throws(() => render({ values: { keda: { enabled: true, minReplicaCount: 0 } } }), /minReplicaCount must be at least 1/);
  assert.throws(() => render({ values: { secrets: { existingSecret: '' } } }), /secrets.existingSecret/);
});

test('the renderer follows Go template rules for what the chart uses, and rejects the rest', () => {
  const service = renderChart(chart, { values: { service: { type: 'NodePort', port: 8081, annotations: { b: '2', a: '1' } } } }).get('service.yaml') ?? '';
  assert.match(service, /annotations:\n {4}a: "1"\n {4}b: "2"\n/, 'toYaml sorts keys (as Helm does) and nindent indents');
  assert.match(service, /type: NodePort\n/);
  assert.equal(renderTemplate('a\n  {{- if eq .Values.x 1 }} one {{- else if .Values.y }}two{{ else }}three{{ end -}}\n  b'), 'a oneb');
  assert.equal(renderTemplate('{{ range $key, $value := .Values.map }}{{ $key }}={{ $value }};{{ end }}'), 'a=1;b=2;');
  assert.throws(() => renderTemplate('{{ lookup "v1" "Secret" "ns" "x" }}'), /outside the supported subset/);
  assert.throws(() => renderTemplate('{{ if .Values.x }}never closed'), /missing \{\{ end \}\}/);
});

/** Renders one template in a throwaway chart with values { x: 1, map: { b: 2, a: 1 } }. */
function renderTemplate(template: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'bw-chart-'));
  try {
    mkdirSync(join(directory, 'templates'));
    cpSync('deploy/helm/breakwater/Chart.yaml', join(directory, 'Chart.yaml'));
    writeFileSync(join(directory, 'values.yaml'), 'x: 1\nmap: { b: 2, a: 1 }\n');
    writeFileSync(join(directory, 'templates', 'probe.yaml'), template);
    return renderChart(loadChart(directory)).get('probe.yaml') ?? '';
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
