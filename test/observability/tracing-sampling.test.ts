// Sampling is decided once, when a request starts (parentbased, new traces at 0 % here): a request that is not
// sampled yields no span and sends nothing upstream, unless it continues a caller's trace, whose decision is honoured
// either way (recorded when the caller sampled it, passed upstream unchanged when it did not).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { installTracing, type Tracing } from '../../src/observability/tracing.js';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RecordingUpstream } from './recording-upstream.js';

const exporter = new InMemorySpanExporter();
const upstream = new RecordingUpstream();
let tracing: Tracing | undefined;
let gateway: TestGateway;

before(async () => {
  tracing = await installTracing({ spanProcessor: new SimpleSpanProcessor(exporter), sampler: { parentBased: true, ratio: 0 } });
  const baseUrl = await upstream.start();
  gateway = await startTestGateway({ providers: [{ name: 'tiny', type: 'openai-compatible', base_url: baseUrl, models: ['tiny-model'] }] });
});

after(async () => {
  await gateway.close();
  await upstream.close();
  await tracing?.shutdown();
});

function logLineOf(requestId: string): Record<string, unknown> | undefined {
  return gateway.logs.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.request_id === requestId);
}

const chat = { model: 'tiny-model', messages: [{ role: 'user', content: 'hi' }] };

test('a new trace that is not sampled: no span, no traceparent upstream, no trace id in the log', async () => {
  exporter.reset();
  upstream.received.length = 0;
  const response = await postJson(`${gateway.url}/v1/chat/completions`, chat, { 'x-request-id': 'unsampled-root' });
  assert.equal(response.status, 200);
  await tracing?.flush();
  assert.equal(exporter.getFinishedSpans().length, 0);
  assert.equal(upstream.received.length, 1);
  assert.equal(upstream.received[0]?.traceparent, undefined);
  assert.equal(logLineOf('unsampled-root')?.trace_id, undefined);
});

test("a caller's unsampled trace goes upstream unchanged and is named in the log, without spans", async () => {
  exporter.reset();
  upstream.received.length = 0;
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
  const response = await postJson(`${gateway.url}/v1/chat/completions`, chat, { traceparent, tracestate: 'vendor=abc', 'x-request-id': 'unsampled-caller' });
  assert.equal(response.status, 200);
  await tracing?.flush();
  assert.equal(exporter.getFinishedSpans().length, 0);
  assert.equal(upstream.received[0]?.traceparent, traceparent);
  assert.equal(upstream.received[0]?.tracestate, 'vendor=abc');
  assert.equal(logLineOf('unsampled-caller')?.trace_id, '0af7651916cd43dd8448eb211c80319c');
});

test("a caller's sampled trace is recorded even though new traces are not, and its tracestate is passed on", async () => {
  exporter.reset();
  upstream.received.length = 0;
  const response = await postJson(`${gateway.url}/v1/chat/completions`, chat, {
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    tracestate: 'vendor=abc',
  });
  assert.equal(response.status, 200);
  await tracing?.flush();
  const spans = exporter.getFinishedSpans();
  const server = spans.find((span) => span.kind === SpanKind.SERVER);
  const client = spans.find((span) => span.kind === SpanKind.CLIENT);
  assert.equal(server?.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(server?.parentSpanContext?.spanId, 'b7ad6b7169203331');
  assert.equal(server?.spanContext().traceState?.serialize(), 'vendor=abc');
  assert.equal(upstream.received[0]?.traceparent, `00-0af7651916cd43dd8448eb211c80319c-${client?.spanContext().spanId}-01`);
  assert.equal(upstream.received[0]?.tracestate, 'vendor=abc');
});
