// The rate-limit, budget and cache-lookup steps of a sampled request appear as internal child spans of its server
// span, with their outcome: what a trace shows when a request was refused, or answered from the cache.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { installTracing, type Tracing } from '../../src/observability/tracing.js';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const exporter = new InMemorySpanExporter();
let tracing: Tracing | undefined;
let gateway: TestGateway;

before(async () => {
  tracing = await installTracing({ spanProcessor: new SimpleSpanProcessor(exporter) });
  gateway = await startTestGateway({
    cache: { enabled: true, mode: 'always', store: 'memory' },
    limits: { key: { rpm: 2 } },
    budgets: { rules: [{ scope: 'global', period: 'day', cost_usd: 100 }] },
  });
});

after(async () => {
  await gateway.close();
  await tracing?.shutdown();
});

function spansOf(requestId: string): { server: ReadableSpan; steps: Map<string, ReadableSpan>; clients: ReadableSpan[] } {
  const all = exporter.getFinishedSpans();
  const server = all.find((span) => span.kind === SpanKind.SERVER && span.attributes['breakwater.request_id'] === requestId);
  assert.ok(server, `a server span for ${requestId}`);
  const children = all.filter((span) => span.parentSpanContext?.spanId === server.spanContext().spanId);
  const steps = new Map(children.filter((span) => span.kind === SpanKind.INTERNAL).map((span) => [span.name, span]));
  for (const step of steps.values()) {
    assert.equal(step.spanContext().traceId, server.spanContext().traceId);
    const start = step.startTime[0] * 1e3 + step.startTime[1] / 1e6;
    const end = step.endTime[0] * 1e3 + step.endTime[1] / 1e6;
    const serverStart = server.startTime[0] * 1e3 + server.startTime[1] / 1e6;
    const serverEnd = server.endTime[0] * 1e3 + server.endTime[1] / 1e6;
    assert.ok(start >= serverStart - 1 && end <= serverEnd + 1 && end >= start, `${step.name} lies within its request`);
  }
  return { server, steps, clients: children.filter((span) => span.kind === SpanKind.CLIENT) };
}

const body = { model: 'sim-fast', messages: [{ role: 'user', content: 'trace my steps' }] };

test('a miss: rate limit and budget admitted (quick admissions are server-span attributes), cache lookup a miss, then the upstream attempt', async () => {
  const response = await postJson(`${gateway.url}/v1/chat/completions`, body, { 'x-request-id': 'steps-miss' });
  assert.equal(response.status, 200);
  await tracing?.flush();
  const { server, steps, clients } = spansOf('steps-miss');
  assert.equal(server.attributes['breakwater.rate_limit.outcome'], 'admitted');
  assert.equal(server.attributes['breakwater.budget.outcome'], 'admitted');
  // An admission that took a millisecond or more (a loaded machine) also gets its own span; a quick one does not.
  for (const name of ['breakwater rate limit', 'breakwater budget']) {
    const span = steps.get(name);
    if (span) assert.ok(span.endTime[0] * 1e3 + span.endTime[1] / 1e6 - (span.startTime[0] * 1e3 + span.startTime[1] / 1e6) >= 0.99, `${name} has a span only when slow`);
  }
  assert.equal(steps.get('breakwater cache lookup')?.attributes['breakwater.step.outcome'], 'miss');
  assert.equal(clients.length, 1);
});

test('a hit: the cache lookup says hit and no upstream attempt follows', async () => {
  const response = await postJson(`${gateway.url}/v1/chat/completions`, body, { 'x-request-id': 'steps-hit' });
  assert.equal(response.status, 200);
  await tracing?.flush();
  const { steps, clients } = spansOf('steps-hit');
  assert.equal(steps.get('breakwater cache lookup')?.attributes['breakwater.step.outcome'], 'hit');
  assert.equal(clients.length, 0);
});

test('a refusal: the rate-limit span names the error code, is not an error itself, and nothing runs after it', async () => {
  const response = await postJson(`${gateway.url}/v1/chat/completions`, body, { 'x-request-id': 'steps-limited' });
  assert.equal(response.status, 429);
  await tracing?.flush();
  const { server, steps, clients } = spansOf('steps-limited');
  const limit = steps.get('breakwater rate limit');
  assert.equal(limit?.attributes['breakwater.step.outcome'], 'BW_ERR_RATE_LIMITED');
  assert.equal(limit?.status.code, 0, 'a refusal is the step doing its job');
  assert.equal(steps.has('breakwater cache lookup'), false);
  assert.equal(clients.length, 0);
  assert.equal(server.attributes['http.response.status_code'], 429);
});
