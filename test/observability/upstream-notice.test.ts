// The upstream client's start/end messages (what tracing subscribes to) never hold the request body: a stream's
// message lives for the stream's whole length, and a prompt held that long is copied by the young-generation
// collector and promoted to the old one on every request (bench/RESULTS.md, sixth pass). The adapter names the
// upstream model instead, so tracing neither keeps nor scans prompts (bench/RESULTS.md, ninth pass).
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Cancellation } from '../../src/core/cancellation.js';
import { newRequestRecord, requestEnd, requestStart } from '../../src/observability/events.js';
import { installTracing, type Tracing } from '../../src/observability/tracing.js';
import { UpstreamClient, type UpstreamRequestMessage } from '../../src/providers/http-client.js';
import { RecordingUpstream } from './recording-upstream.js';

const exporter = new InMemorySpanExporter();
const upstream = new RecordingUpstream();
let tracing: Tracing | undefined;
let client: UpstreamClient;

before(async () => {
  tracing = await installTracing({ spanProcessor: new SimpleSpanProcessor(exporter) });
  const baseUrl = await upstream.start();
  client = new UpstreamClient({
    provider: 'tiny',
    baseUrl,
    timeouts: { connect_ms: 5_000, first_byte_ms: 5_000, idle_ms: 5_000, total_ms: 10_000 },
    maxConnections: 2,
    maxResponseBytes: 1 << 20,
  });
});

after(async () => {
  await upstream.close();
  await tracing?.shutdown();
});

/** One request through the client, as an adapter sends it; returns the messages as published at start and at end. */
async function exchange(requestId: string, body: string, model?: string): Promise<{ atStart: Record<string, unknown>; atEnd: Record<string, unknown>; status: number }> {
  let atStart: Record<string, unknown> = {};
  let atEnd: Record<string, unknown> = {};
  const onStart = (message: unknown) => (atStart = { ...(message as UpstreamRequestMessage) });
  const onEnd = (message: unknown) => (atEnd = { ...(message as UpstreamRequestMessage) });
  subscribe('breakwater:upstream:request:start', onStart);
  subscribe('breakwater:upstream:request:end', onEnd);
  try {
    const call = await client.send('/chat/completions', 'POST', { 'content-type': 'application/json', 'x-request-id': requestId }, body, new Cancellation(), model);
    await client.readText(call);
    call.finish();
    return { atStart, atEnd, status: call.statusCode };
  } finally {
    unsubscribe('breakwater:upstream:request:start', onStart);
    unsubscribe('breakwater:upstream:request:end', onEnd);
  }
}

test('the upstream request message names the model and never holds the body', async () => {
  const prompt = 'a prompt long enough to matter '.repeat(100);
  const body = JSON.stringify({ model: 'tiny-model', messages: [{ role: 'user', content: prompt }] });
  const seen = await exchange('notice-body-1', body, 'tiny-model');
  assert.equal(seen.status, 200);
  assert.equal(Number(upstream.received.at(-1)?.['content-length']), Buffer.byteLength(body), 'the upstream received the whole body');
  for (const [when, message] of Object.entries({ start: seen.atStart, end: seen.atEnd })) {
    assert.equal(message.model, 'tiny-model', `the model at ${when}`);
    assert.equal(message.path, '/v1/chat/completions');
    for (const value of Object.values(message)) assert.ok(typeof value !== 'string' || !value.includes('a prompt long enough'), `no prompt text in the message at ${when}`);
  }
});

test('an attempt no executor event describes still names the model the adapter asked for', async () => {
  exporter.reset();
  upstream.received.length = 0;
  const api = newRequestRecord(1, 'notice-model-1', '/v1/chat/completions', 'POST', undefined, undefined);
  requestStart.publish(api);
  // The body names another model: the span follows what the adapter says it asked for, and does not read the body.
  const seen = await exchange('notice-model-1', JSON.stringify({ model: 'body-model', messages: [{ role: 'user', content: 'hi' }] }), 'tiny-model');
  api.status = 200;
  api.durationMs = performance.now() - api.startedAt;
  requestEnd.publish(api);
  await tracing?.flush();
  assert.equal(seen.atEnd.model, 'tiny-model');
  const attempts = exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.CLIENT);
  assert.equal(attempts.length, 1);
  assert.equal(attempts[0]?.name, 'chat tiny-model');
  assert.equal(attempts[0]?.attributes['gen_ai.request.model'], 'tiny-model');
  assert.match(String(upstream.received[0]?.traceparent), new RegExp(`^00-[0-9a-f]{32}-${attempts[0]?.spanContext().spanId}-01$`));
});
