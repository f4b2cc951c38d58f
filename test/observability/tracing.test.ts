// Tracing end to end: a request through the real gateway yields a server span and one client span per upstream
// attempt with GenAI attributes, and the upstream receives a W3C traceparent naming that attempt's span.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { installTracing, type Tracing } from '../../src/observability/tracing.js';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RecordingUpstream } from './recording-upstream.js';

const exporter = new InMemorySpanExporter();
const upstream = new RecordingUpstream();
let tracing: Tracing | undefined;
let gateway: TestGateway;
let baseUrl = '';

before(async () => {
  tracing = await installTracing({ spanProcessor: new SimpleSpanProcessor(exporter) });
  baseUrl = await upstream.start();
  gateway = await startTestGateway({ providers: [{ name: 'tiny', type: 'openai-compatible', base_url: baseUrl, models: ['tiny-model'] }] });
});

after(async () => {
  await gateway.close();
  await upstream.close();
  await tracing?.shutdown();
});

function spansOfTrace(traceId: string): { server: ReadableSpan; clients: ReadableSpan[] } {
  const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
  const servers = spans.filter((span) => span.kind === SpanKind.SERVER);
  assert.equal(servers.length, 1, 'one server span per request');
  const server = servers[0] as ReadableSpan;
  const clients = spans.filter((span) => span.kind === SpanKind.CLIENT);
  for (const client of clients) assert.equal(client.parentSpanContext?.spanId, server.spanContext().spanId, 'attempt spans are children of the server span');
  return { server, clients };
}

function traceparentOf(headers: IncomingHttpHeaders): { traceId: string; spanId: string } {
  const value = headers.traceparent;
  assert.equal(typeof value, 'string', 'the upstream received a traceparent');
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(value as string);
  assert.ok(match, `traceparent is W3C: ${String(value)}`);
  return { traceId: match[1] as string, spanId: match[2] as string };
}

test('a JSON request continues the caller trace: server span, one attempt span with GenAI attributes, traceparent upstream', async () => {
  exporter.reset();
  upstream.received.length = 0;
  const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const response = await postJson(
    `${gateway.url}/v1/chat/completions`,
    { model: 'tiny-model', messages: [{ role: 'user', content: 'hi' }] },
    { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01`, 'x-request-id': 'trace-json-1' },
  );
  assert.equal(response.status, 200);
  await tracing?.flush();
  const { server, clients } = spansOfTrace(callerTrace);
  assert.equal(server.parentSpanContext?.spanId, '00f067aa0ba902b7', 'the server span is a child of the caller span');
  assert.equal(server.name, 'POST /v1/chat/completions');
  assert.equal(server.attributes['http.route'], '/v1/chat/completions');
  assert.equal(server.attributes['http.response.status_code'], 200);
  assert.equal(server.attributes['breakwater.request_id'], 'trace-json-1');
  assert.equal(clients.length, 1);
  const attempt = clients[0] as ReadableSpan;
  assert.equal(attempt.attributes['gen_ai.operation.name'], 'chat');
  assert.equal(attempt.attributes['gen_ai.request.model'], 'tiny-model');
  assert.equal(attempt.attributes['gen_ai.provider.name'], 'tiny');
  assert.equal(attempt.attributes['gen_ai.usage.input_tokens'], 7);
  assert.equal(attempt.attributes['gen_ai.usage.output_tokens'], 3);
  assert.equal(attempt.attributes['http.response.status_code'], 200);
  assert.ok(!String(attempt.attributes['url.full']).includes('?'), 'no query string recorded');
  assert.equal(attempt.name, 'chat tiny-model');
  assert.equal(attempt.attributes['url.full'], `${baseUrl}/chat/completions`);
  assert.equal(upstream.received.length, 1);
  assert.deepEqual(traceparentOf(upstream.received[0] as IncomingHttpHeaders), { traceId: callerTrace, spanId: attempt.spanContext().spanId });
  const logLine = gateway.logs.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.request_id === 'trace-json-1');
  assert.equal(logLine?.trace_id, callerTrace, 'the request log line names the trace');
  assert.ok(attempt.endTime[0] * 1e3 + attempt.endTime[1] / 1e6 <= server.endTime[0] * 1e3 + server.endTime[1] / 1e6 + 1, 'the attempt ends within the request');
});

test('a streamed request: the attempt span carries the usage reported at the end of the stream', async () => {
  exporter.reset();
  upstream.received.length = 0;
  const response = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'tiny-model', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(response.status, 200);
  assert.ok(response.text.includes('[DONE]'));
  await tracing?.flush();
  const { traceId } = traceparentOf(upstream.received[0] as IncomingHttpHeaders);
  const { server, clients } = spansOfTrace(traceId);
  assert.equal(server.parentSpanContext, undefined, 'no incoming traceparent: the server span is a root');
  assert.equal(clients.length, 1);
  assert.equal(clients[0]?.attributes['gen_ai.usage.output_tokens'], 3);
  assert.equal(server.attributes['gen_ai.usage.input_tokens'], 7);
  // The second request of the same route and model: names and url made once are given again, unchanged.
  assert.equal(server.name, 'POST /v1/chat/completions');
  assert.equal(clients[0]?.name, 'chat tiny-model');
  assert.equal(clients[0]?.attributes['url.full'], `${baseUrl}/chat/completions`);
});

test('every upstream attempt has its own child span and its own traceparent', async () => {
  exporter.reset();
  upstream.received.length = 0;
  upstream.failNext = 1;
  // With retries on, one request makes two attempts; without, the first request fails and the second succeeds.
  const first = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'tiny-model', messages: [{ role: 'user', content: 'hi' }] });
  if (first.status !== 200) {
    assert.equal(first.status, 503);
    assert.equal((await postJson(`${gateway.url}/v1/chat/completions`, { model: 'tiny-model', messages: [{ role: 'user', content: 'hi' }] })).status, 200);
  }
  await tracing?.flush();
  assert.equal(upstream.received.length, 2);
  const clients = exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.CLIENT);
  assert.equal(clients.length, 2, 'one client span per upstream attempt');
  const bySpanId = new Map(clients.map((span) => [span.spanContext().spanId, span]));
  const seen = upstream.received.map((headers) => traceparentOf(headers).spanId);
  assert.equal(new Set(seen).size, 2, 'each attempt sends its own span id');
  const failed = bySpanId.get(seen[0] as string);
  const served = bySpanId.get(seen[1] as string);
  assert.equal(failed?.attributes['http.response.status_code'], 503);
  assert.equal(failed?.status.code, 2, 'the failed attempt is marked as an error');
  assert.equal(served?.attributes['http.response.status_code'], 200);
  assert.equal(served?.attributes['gen_ai.usage.output_tokens'], 3);
});

test('requests outside the gateway (the test client itself) produce no spans', async () => {
  exporter.reset();
  const response = await fetch(`${gateway.url}/health`);
  assert.equal(response.status, 200);
  await tracing?.flush();
  assert.equal(exporter.getFinishedSpans().length, 0);
});

test('an attempt that cannot connect is an error span naming the transport failure', async () => {
  const { createServer } = await import('node:net');
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as { port: number }).port;
  await new Promise((resolve) => closed.close(resolve));
  const dead = await startTestGateway({ providers: [{ name: 'dead', type: 'openai-compatible', base_url: `http://127.0.0.1:${port}/v1`, models: ['dead-model'] }] });
  try {
    exporter.reset();
    const response = await postJson(`${dead.url}/v1/chat/completions`, { model: 'dead-model', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'trace-dead-1' });
    assert.ok(response.status >= 500, `a gateway error (${response.status})`);
    await tracing?.flush();
    const server = exporter.getFinishedSpans().find((span) => span.attributes['breakwater.request_id'] === 'trace-dead-1');
    assert.ok(server, 'the server span');
    const { clients } = spansOfTrace(server.spanContext().traceId);
    assert.ok(clients.length >= 1, 'at least one attempt span');
    for (const client of clients) {
      assert.equal(client.status.code, 2, 'the attempt is an error');
      assert.equal(client.attributes['http.response.status_code'], undefined, 'no response');
      assert.equal(typeof client.attributes['error.type'], 'string');
      assert.equal(client.attributes['gen_ai.provider.name'], 'dead');
    }
  } finally {
    await dead.close();
  }
});
