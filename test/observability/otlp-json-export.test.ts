// OTEL_EXPORTER_OTLP_PROTOCOL=http/json goes through the OpenTelemetry SDK's exporter, which tracing-sdk.ts loads only
// when asked for: a traced request through the real server reaches a collector as OTLP/JSON, with the SDK pipeline
// named in the `tracing on` line.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { installTracing, type Tracing } from '../../src/observability/tracing.js';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RecordingUpstream } from './recording-upstream.js';

interface JsonSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Array<{ key: string; value: { stringValue?: string } }>;
}
interface JsonExport {
  resourceSpans: Array<{ scopeSpans: Array<{ spans: JsonSpan[] }> }>;
}

const received: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];
const collector = createServer((request, response) => {
  let body = '';
  request.on('data', (part: Buffer) => (body += part.toString('utf8')));
  request.on('end', () => {
    received.push({ url: request.url ?? '', headers: request.headers, body });
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
const upstream = new RecordingUpstream();
const logged: Array<{ object: object; message: string }> = [];
let tracing: Tracing | undefined;
let gateway: TestGateway;

before(async () => {
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  // The SDK exporter reads the standard variables itself, from process.env.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
  process.env.OTEL_BSP_SCHEDULE_DELAY = '20';
  tracing = await installTracing({
    logger: { info: (object, message) => logged.push({ object, message }), warn: (object, message) => logged.push({ object, message }) },
  });
  const baseUrl = await upstream.start();
  gateway = await startTestGateway({ providers: [{ name: 'tiny', type: 'openai-compatible', base_url: baseUrl, models: ['tiny-model'] }] });
});

after(async () => {
  await gateway.close();
  await upstream.close();
  await tracing?.shutdown();
  collector.closeAllConnections();
  await new Promise<void>((resolve) => collector.close(() => resolve()));
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
  delete process.env.OTEL_BSP_SCHEDULE_DELAY;
});

test('http/json: the SDK exporter, loaded on demand, sends the server and attempt spans as OTLP/JSON', async () => {
  assert.ok(
    logged.some((line) => line.message === 'tracing on' && (line.object as { pipeline?: string; protocol?: string }).pipeline === 'sdk' && (line.object as { protocol?: string }).protocol === 'http/json'),
    'the tracing on line names the SDK pipeline',
  );
  const response = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'tiny-model', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'json-export-1' });
  assert.equal(response.status, 200);
  const spans: JsonSpan[] = [];
  for (let tries = 0; tries < 500 && !spans.some((span) => span.name === 'POST /v1/chat/completions'); tries++) {
    for (const request of received.splice(0)) {
      assert.equal(request.url, '/v1/traces');
      assert.match(String(request.headers['content-type']), /^application\/json/);
      const body = JSON.parse(request.body) as JsonExport;
      for (const resource of body.resourceSpans) for (const scope of resource.scopeSpans) spans.push(...scope.spans);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const server = spans.find((span) => span.name === 'POST /v1/chat/completions');
  const attempt = spans.find((span) => span.name === 'chat tiny-model');
  assert.ok(server, 'the server span arrived');
  assert.ok(attempt, 'the attempt span arrived');
  assert.equal(attempt.parentSpanId, server.spanId);
  assert.equal(server.attributes.find((attribute) => attribute.key === 'breakwater.request_id')?.value.stringValue, 'json-export-1');
  assert.equal(String(upstream.received.at(-1)?.traceparent).split('-')[1], server.traceId);
});
