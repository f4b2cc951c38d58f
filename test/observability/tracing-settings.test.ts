// Tracing is on only when the OTEL_* environment asks for it; off means no subscription at all.
import assert from 'node:assert/strict';
import { hasSubscribers } from 'node:diagnostics_channel';
import { test } from 'node:test';
import { installTracing } from '../../src/observability/tracing.js';
import { tracingSettingsFromEnv } from '../../src/observability/tracing-settings.js';

test('no OTEL variables: tracing stays off and subscribes to nothing', async () => {
  assert.equal(await installTracing({ env: {} }), undefined);
  for (const name of ['undici:request:create', 'http.server.request.start', 'breakwater:request:start']) assert.equal(hasSubscribers(name), false, name);
});

test('an OTLP endpoint turns tracing on with the spec default protocol', () => {
  assert.deepEqual(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), { enabled: true, exporter: 'otlp', protocol: 'http/protobuf' });
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
