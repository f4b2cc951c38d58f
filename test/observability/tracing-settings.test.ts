// Tracing is on only when the OTEL_* environment asks for it (off means no subscription at all); the sampler and ids.
import assert from 'node:assert/strict';
import { hasSubscribers } from 'node:diagnostics_channel';
import { test } from 'node:test';
import { installTracing } from '../../src/observability/tracing.js';
import { newSpanId, newTraceId } from '../../src/observability/tracing-random-ids.js';
import { sampleDecider } from '../../src/observability/tracing-sampler.js';
import { tracingSettingsFromEnv } from '../../src/observability/tracing-settings.js';

test('no OTEL variables: tracing stays off and subscribes to nothing', async () => {
  assert.equal(await installTracing({ env: {} }), undefined);
  for (const name of ['undici:request:create', 'http.server.request.start', 'breakwater:request:start', 'breakwater:upstream:request:start']) assert.equal(hasSubscribers(name), false, name);
});

test('an OTLP endpoint turns tracing on with the spec default protocol', () => {
  assert.deepEqual(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), {
    enabled: true,
    exporter: 'otlp',
    protocol: 'http/protobuf',
    sampler: { parentBased: true, ratio: 1 },
  });
  assert.equal(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }).enabled, true);
  assert.equal(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).protocol, 'http/json');
});

test('OTEL_TRACES_EXPORTER chooses, none and OTEL_SDK_DISABLED switch off', () => {
  assert.equal(tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'console' }).exporter, 'console');
  assert.equal(tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' }).enabled, true);
  assert.equal(tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).enabled, false);
  assert.equal(tracingSettingsFromEnv({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).enabled, false);
});

test('unsupported choices fall back to OTLP/HTTP with a warning rather than failing to start', () => {
  const grpc = tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
  assert.equal(grpc.protocol, 'http/protobuf');
  assert.match(grpc.warning ?? '', /grpc/);
  const zipkin = tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' });
  assert.equal(zipkin.exporter, 'otlp');
  assert.match(zipkin.warning ?? '', /zipkin/);
});

test('OTEL_TRACES_SAMPLER(_ARG) as the specification names them; parentbased_always_on by default', () => {
  const sampler = (env: NodeJS.ProcessEnv) => tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', ...env }).sampler;
  assert.deepEqual(sampler({}), { parentBased: true, ratio: 1 });
  assert.deepEqual(sampler({ OTEL_TRACES_SAMPLER: 'always_off' }), { parentBased: false, ratio: 0 });
  assert.deepEqual(sampler({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }), { parentBased: true, ratio: 0 });
  assert.deepEqual(sampler({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }), { parentBased: false, ratio: 0.25 });
  assert.deepEqual(sampler({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }), { parentBased: true, ratio: 0.1 });
  const badRatio = tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' });
  assert.equal(badRatio.sampler.ratio, 1);
  assert.match(badRatio.warning ?? '', /OTEL_TRACES_SAMPLER_ARG/);
  const jaeger = tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'jaeger_remote' });
  assert.deepEqual(jaeger.sampler, { parentBased: true, ratio: 1 });
  assert.match(jaeger.warning ?? '', /jaeger_remote/);
});

test('a ratio sampler keeps about that share of new traces, the same answer for the same trace id', () => {
  const decide = sampleDecider({ parentBased: true, ratio: 0.1 });
  let kept = 0;
  for (let index = 0; index < 20_000; index++) if (decide(newTraceId(), undefined)) kept++;
  assert.ok(kept > 1_600 && kept < 2_400, `kept ${kept} of 20000`);
  const traceId = newTraceId();
  assert.equal(decide(traceId, undefined), decide(traceId, undefined));
  assert.equal(decide(traceId, 1), true, 'a sampled caller is followed');
  assert.equal(decide(traceId, 0), false, 'an unsampled caller is followed');
  assert.equal(sampleDecider({ parentBased: false, ratio: 0 })(traceId, 1), false, 'not parent-based: the caller is ignored');
});

test('trace and span ids are lowercase hex of the W3C sizes and differ from one another', () => {
  const ids = new Set<string>();
  for (let index = 0; index < 2_000; index++) {
    const traceId = newTraceId();
    const spanId = newSpanId();
    assert.match(traceId, /^[0-9a-f]{32}$/);
    assert.match(spanId, /^[0-9a-f]{16}$/);
    ids.add(traceId);
    ids.add(spanId);
  }
  assert.equal(ids.size, 4_000);
});
