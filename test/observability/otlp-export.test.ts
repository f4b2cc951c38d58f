// OTLP/HTTP protobuf export end to end: a gateway whose OTEL_EXPORTER_OTLP_ENDPOINT points at a local collector
// stand-in sends its spans there (POST /v1/traces, protobuf, the OTEL_EXPORTER_OTLP_HEADERS headers), decoded here
// with the GenAI attributes; and the exporter's own rules: retries on 429/502/503/504 honouring Retry-After, no
// redirects followed, gzip, a bounded queue that drops and says so.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { OtlpBatchProcessor } from '../../src/observability/otlp-batch-processor.js';
import { otlpExportSettingsFromEnv, type OtlpExportSettings } from '../../src/observability/otlp-exporter-settings.js';
import { OtlpExportThread } from '../../src/observability/otlp-export-thread.js';
import { OtlpHttpSender } from '../../src/observability/otlp-http-sender.js';
import { attributeKey, requestFrame } from '../../src/observability/otlp-trace-encoding.js';
import { installTracing, type Tracing } from '../../src/observability/tracing.js';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SpanKind, TraceFlags } from '@opentelemetry/api';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { decodeTraceRequest, type DecodedSpan } from './otlp-reader.js';
import { RecordingUpstream } from './recording-upstream.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A collector stand-in: records every request; `answers` scripts the statuses (then 200). */
class Collector {
  readonly received: Received[] = [];
  answers: Array<{ status: number; headers?: Record<string, string> }> = [];
  private readonly server: Server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      this.received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(parts) });
      const answer = this.answers.shift() ?? { status: 200 };
      response.writeHead(answer.status, { 'content-type': 'application/x-protobuf', ...answer.headers }).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let tries = 0; tries < 500; tries++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const collector = new Collector();
const upstream = new RecordingUpstream();
let collectorUrl: string;
let tracing: Tracing | undefined;
let gateway: TestGateway;
const logged: Array<{ object: object; message: string }> = [];

before(async () => {
  collectorUrl = await collector.start();
  process.env.OTEL_SERVICE_NAME = 'breakwater-under-test';
  tracing = await installTracing({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `${collectorUrl}/`,
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20t0ken,x-tenant=acme',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=traces-tenant',
      OTEL_BSP_SCHEDULE_DELAY: '20',
    },
    logger: { info: (object, message) => logged.push({ object, message }), warn: (object, message) => logged.push({ object, message }) },
  });
  const baseUrl = await upstream.start();
  gateway = await startTestGateway({ providers: [{ name: 'tiny', type: 'openai-compatible', base_url: baseUrl, models: ['tiny-model'] }] });
});

after(async () => {
  await gateway.close();
  await upstream.close();
  await tracing?.shutdown();
  await collector.close();
  delete process.env.OTEL_SERVICE_NAME;
});

test('a gateway with OTEL_EXPORTER_OTLP_ENDPOINT sends its spans to <endpoint>/v1/traces as protobuf, with the configured headers', async () => {
  assert.ok(logged.some((line) => line.message === 'tracing on' && (line.object as { pipeline?: string }).pipeline === 'gateway'));
  const response = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'tiny-model', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'otlp-e2e-1' });
  assert.equal(response.status, 200);
  const spans: DecodedSpan[] = [];
  let received: Received | undefined;
  await until(() => {
    for (const request of collector.received.splice(0)) {
      received = request;
      spans.push(...decodeTraceRequest(request.body).spans);
    }
    return spans.some((span) => span.attributes['breakwater.request_id'] === 'otlp-e2e-1') && spans.length >= 2 ? true : undefined;
  }, 'the spans at the collector');
  assert.equal(received?.method, 'POST');
  assert.equal(received?.url, '/v1/traces');
  assert.equal(received?.headers['content-type'], 'application/x-protobuf');
  assert.equal(received?.headers.authorization, 'Bearer t0ken');
  assert.equal(received?.headers['x-tenant'], 'traces-tenant', 'the traces-specific header wins');
  const decoded = decodeTraceRequest((received as Received).body);
  assert.equal(decoded.resource['service.name'], 'breakwater-under-test', 'OTEL_SERVICE_NAME names the service');
  const server = spans.find((span) => span.kind === SpanKind.SERVER + 1);
  const client = spans.find((span) => span.kind === SpanKind.CLIENT + 1);
  assert.equal(server?.name, 'POST /v1/chat/completions');
  assert.equal(server?.attributes['http.response.status_code'], 200);
  assert.equal(client?.parentSpanId, server?.spanId);
  assert.equal(client?.traceId, server?.traceId);
  assert.equal(client?.attributes['gen_ai.operation.name'], 'chat');
  assert.equal(client?.attributes['gen_ai.request.model'], 'tiny-model');
  assert.equal(client?.attributes['gen_ai.provider.name'], 'tiny');
  assert.equal(client?.attributes['gen_ai.usage.input_tokens'], 7);
  assert.equal(client?.attributes['gen_ai.usage.output_tokens'], 3);
  assert.deepEqual(client?.attributes['gen_ai.response.finish_reasons'], ['stop']);
  assert.equal(upstream.received.at(-1)?.traceparent, `00-${client?.traceId}-${client?.spanId}-01`);
  // Counted once the export thread reports the collector's answer, which can come after the collector has the bytes.
  let exported = Number.NaN;
  for (let tries = 0; tries < 200 && !(exported >= 2); tries++) {
    if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 25));
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    exported = Number(/breakwater_trace_spans_total\{outcome="exported"\} (\d+)/.exec(metrics)?.[1]);
  }
  assert.ok(exported >= 2, `the exported spans are counted in /metrics (${exported})`);
});

function settingsFor(env: NodeJS.ProcessEnv): OtlpExportSettings {
  const chosen = otlpExportSettingsFromEnv(env);
  assert.ok('settings' in chosen);
  return chosen.settings;
}

test('the endpoint, headers, timeouts and batch limits come from the standard variables', () => {
  assert.equal(settingsFor({}).url.href, 'http://localhost:4318/v1/traces');
  assert.equal(settingsFor({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).url.href, 'http://collector:4318/v1/traces');
  assert.equal(settingsFor({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:1', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c:2/custom' }).url.href, 'https://c:2/custom', 'the traces endpoint is used as is');
  const settings = settingsFor({
    OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2000',
    OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '5000',
    OTEL_BSP_MAX_QUEUE_SIZE: '1000',
    OTEL_BSP_EXPORT_TIMEOUT: '7000',
  });
  assert.deepEqual(
    { timeoutMs: settings.timeoutMs, compression: settings.compression, delay: settings.scheduleDelayMs, batch: settings.maxExportBatchSize, queue: settings.maxQueueSize, exportTimeout: settings.exportTimeoutMs },
    { timeoutMs: 2000, compression: 'gzip', delay: 100, batch: 1000, queue: 1000, exportTimeout: 7000 },
  );
  assert.deepEqual(otlpExportSettingsFromEnv({ OTEL_EXPORTER_OTLP_CERTIFICATE: '/ca.pem' }), { unsupported: 'OTEL_EXPORTER_OTLP_CERTIFICATE is set' });
});

/** A clock whose sleeps return at once and are remembered. */
function recordingClock(): { now(): number; sleep(ms: number): Promise<void>; slept: number[] } {
  const slept: number[] = [];
  return { now: () => Date.now(), sleep: async (ms: number) => void slept.push(ms), slept };
}

test('retries on 429/502/503/504 (Retry-After honoured), gzip, and no redirect followed', async () => {
  const settings = settingsFor({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collectorUrl}/v1/traces`, OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' });
  const clock = recordingClock();
  const sender = new OtlpHttpSender(settings, clock);
  collector.received.length = 0;
  collector.answers = [{ status: 503 }, { status: 429, headers: { 'retry-after': '2' } }, { status: 200 }];
  await sender.export(Buffer.from('batch-one'));
  assert.equal(collector.received.length, 3);
  for (const request of collector.received) {
    assert.equal(request.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(request.body).toString(), 'batch-one');
  }
  assert.equal(clock.slept.length, 2);
  assert.ok((clock.slept[0] as number) >= 800 && (clock.slept[0] as number) <= 1200, 'first backoff about a second');
  assert.equal(clock.slept[1], 2000, 'Retry-After: 2');

  collector.received.length = 0;
  collector.answers = [{ status: 307, headers: { location: 'http://example.invalid/' } }];
  await assert.rejects(sender.export(Buffer.from('batch-two')), /collector answered 307/);
  assert.equal(collector.received.length, 1, 'the redirect is not followed');

  collector.received.length = 0;
  collector.answers = [{ status: 400 }];
  await assert.rejects(sender.export(Buffer.from('batch-three')), /collector answered 400/);
  assert.equal(collector.received.length, 1, 'a 400 is not retried');

  collector.received.length = 0;
  collector.answers = Array.from({ length: 10 }, () => ({ status: 502 }));
  await assert.rejects(sender.export(Buffer.from('batch-four')), /collector answered 502/);
  assert.equal(collector.received.length, 5, 'retries are bounded');
  collector.answers = [];
  sender.close();
});

test('a collector that accepts the request and never answers fails the export at OTEL_EXPORTER_OTLP_TIMEOUT', async () => {
  const silent = createServer(() => undefined); // reads nothing, answers nothing
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const sender = new OtlpHttpSender(settingsFor({ OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_EXPORTER_OTLP_TIMEOUT: '150' }), recordingClock());
  try {
    const started = Date.now();
    await assert.rejects(sender.export(Buffer.from('hanging')), /no answer within 150 ms/);
    assert.ok(Date.now() - started < 5000, 'the wait is bounded by the timeout');
  } finally {
    sender.close();
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});

test('a full queue drops spans, counts them and says so in one warning; a failed export is counted too', async () => {
  const warnings: Array<{ object: Record<string, unknown>; message: string }> = [];
  const pending: Array<() => void> = [];
  let calls = 0;
  const processor = new OtlpBatchProcessor({
    settings: { scheduleDelayMs: 60_000, maxExportBatchSize: 2, maxQueueSize: 4 },
    frame: requestFrame(resourceFromAttributes({ 'service.name': 'q' }), { name: 'breakwater' }),
    // The first export fails, the others succeed; each waits until the test lets it answer.
    sender: { export: () => new Promise<void>((resolve, reject) => (++calls === 1 ? pending.push(() => reject(new Error('collector answered 500'))) : pending.push(resolve))), close: () => undefined },
    logger: { warn: (object, message) => warnings.push({ object: object as Record<string, unknown>, message }) },
    reportEveryMs: 0,
  });
  const context = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
  for (let index = 0; index < 7; index++) {
    processor.begin('span', SpanKind.CLIENT, context, undefined, 1, 2, false);
    processor.string(attributeKey('key'), 'value');
    processor.end();
  }
  assert.equal(processor.stats().droppedSpans, 3, 'four spans wait (two batches), the rest are dropped');
  assert.equal(warnings.at(-1)?.message, 'traces not exported');
  assert.equal(warnings.at(-1)?.object.dropped_spans, 1);
  const flushed = processor.forceFlush();
  await until(() => (pending.length >= 1 ? true : undefined), 'the first export');
  (pending.shift() as () => void)(); // the first batch fails
  await until(() => (pending.length >= 1 ? true : undefined), 'the second export');
  (pending.shift() as () => void)(); // the second succeeds
  await flushed;
  assert.deepEqual(processor.stats(), { exportedSpans: 2, droppedSpans: 3, failedSpans: 2, failedExports: 1 });
  assert.ok(warnings.some((line) => line.object.failed_spans === 2 && line.object.reason === 'collector answered 500'));
});

test('the default pipeline sends batches from a thread of its own: the bytes as sealed, the headers, failures as rejections', async () => {
  const settings = settingsFor({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collectorUrl}/v1/traces`, OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=acme' });
  const lost: Error[] = [];
  const thread = new OtlpExportThread(settings, (error) => lost.push(error));
  assert.equal(thread.running, false, 'no thread until there is a batch');
  collector.received.length = 0;
  // A view into a larger buffer, as the processor hands over: only the view's bytes go, and the buffer stays usable.
  const batch = Buffer.from('xxbatch-from-the-threadyy');
  const view = batch.subarray(2, batch.length - 2);
  await thread.export(view);
  assert.equal(thread.running, true);
  assert.equal(batch.toString(), 'xxbatch-from-the-threadyy', 'the caller keeps its buffer');
  assert.equal(collector.received.length, 1);
  assert.equal(collector.received[0]?.url, '/v1/traces');
  assert.equal(collector.received[0]?.headers['x-tenant'], 'acme');
  assert.equal(collector.received[0]?.headers['content-type'], 'application/x-protobuf');
  assert.equal(collector.received[0]?.body.toString(), 'batch-from-the-thread');

  collector.answers = [{ status: 400 }];
  await assert.rejects(thread.export(Buffer.from('refused')), /collector answered 400/);
  thread.close();
  await until(() => (thread.running ? undefined : true), 'the thread to end');
  await assert.rejects(thread.export(Buffer.from('after close')), /closed/);
  assert.deepEqual(lost, [], 'a thread ended by close is not reported as lost');
});

test('retries stop at OTEL_BSP_EXPORT_TIMEOUT', async () => {
  const settings = settingsFor({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collectorUrl}/v1/traces`, OTEL_BSP_EXPORT_TIMEOUT: '1500' });
  let now = 1_000_000;
  const sender = new OtlpHttpSender(settings, { now: () => now, sleep: async (ms: number) => void (now += ms) });
  collector.received.length = 0;
  collector.answers = Array.from({ length: 10 }, () => ({ status: 503 }));
  await assert.rejects(sender.export(Buffer.from('late')), /no time left to retry/);
  assert.equal(collector.received.length, 2, 'one retry fits in 1.5 s (about 1 s of backoff), a second would not');
  collector.answers = [];
  sender.close();
});
