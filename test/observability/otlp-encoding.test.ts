// The gateway's OTLP protobuf encoding against the SDK's: the same finished spans written through the gateway's
// batch processor and through the SDK path (FinishedSpan → ProtobufTraceSerializer) give identical bytes, for every
// shape of span and attribute the builder writes (and a few it might).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanKind, TraceFlags, type AttributeValue, type SpanContext } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OtlpBatchProcessor } from '../../src/observability/otlp-batch-processor.js';
import { attributeKey, maxRememberedValues, requestFrame, type AttributeKey } from '../../src/observability/otlp-trace-encoding.js';
import type { SpanOrigin } from '../../src/observability/tracing-finished-span.js';
import { ProcessorSpanSink, type SpanSink } from '../../src/observability/tracing-span-sink.js';
import { decodeTraceRequest } from './otlp-reader.js';

const origin: SpanOrigin = {
  resource: resourceFromAttributes({ 'service.name': 'breakwater', 'service.version': '0.1.0', 'deployment.environment': 'tést', 'host.cpus': 2, sampled: true }),
  scope: { name: 'breakwater', version: '0.1.0' },
};

type Attribute = ['string', string, string] | ['number', string, number] | ['value', string, AttributeValue];

interface Example {
  name: string;
  kind: SpanKind;
  context: SpanContext;
  parent: SpanContext | undefined;
  startMs: number;
  endMs: number;
  failed: boolean;
  attributes: Attribute[];
}

const caller: SpanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true };
const server: SpanContext = { traceId: caller.traceId, spanId: 'a1b2c3d4e5f60718', traceFlags: TraceFlags.SAMPLED, traceState: new TraceState('vendor=abc,other=x') };
const examples: Example[] = [
  {
    name: 'POST /v1/chat/completions',
    kind: SpanKind.SERVER,
    context: server,
    parent: caller,
    startMs: 1_763_900_000_123.5,
    endMs: 1_763_900_000_987.25,
    failed: false,
    attributes: [
      ['string', 'http.request.method', 'POST'],
      ['string', 'http.route', '/v1/chat/completions'],
      ['number', 'http.response.status_code', 200],
      ['number', 'gen_ai.usage.input_tokens', 7],
      ['number', 'breakwater.time_to_first_token_ms', 12.75],
      ['value', 'breakwater.client_closed', true],
    ],
  },
  {
    name: 'chat tiny-model',
    kind: SpanKind.CLIENT,
    context: { traceId: caller.traceId, spanId: '0102030405060708', traceFlags: TraceFlags.SAMPLED },
    parent: server,
    startMs: 1_763_900_000_200.125,
    endMs: 1_763_900_000_199, // ends "before" it starts: taken as its start
    failed: true,
    attributes: [
      ['string', 'url.full', `http://127.0.0.1:4000/v1/${'long-path-segment/'.repeat(12)}chat/completions`],
      ['string', 'gen_ai.request.model', 'modèle-ünïcode-✓'],
      ['number', 'server.port', 4000],
      ['number', 'negative', -42],
      ['number', 'big', 2 ** 40 + 3],
      ['value', 'gen_ai.response.finish_reasons', ['stop']],
      ['value', 'several', ['a', 'b', 'c']],
      ['value', 'numbers', [1, 2.5]],
      ['string', 'error.type', 'BW_ERR_UPSTREAM_TIMEOUT'],
    ],
  },
  {
    name: 'GET /v1/models',
    kind: SpanKind.SERVER,
    context: { traceId: 'ffffffffffffffffffffffffffffffff', spanId: 'ffffffffffffffff', traceFlags: TraceFlags.SAMPLED },
    parent: undefined,
    startMs: 0.5,
    endMs: 4_102_444_800_000, // 2100-01-01
    failed: false,
    attributes: [],
  },
];

/** A new key per attribute (nothing remembered), or keys shared by every span (as the span builder's are). */
type KeyOf = (name: string) => AttributeKey;

function write(sink: SpanSink, example: Example, keyOf: KeyOf = (name) => attributeKey(name)): void {
  sink.begin(example.name, example.kind, example.context, example.parent, example.startMs, example.endMs, example.failed);
  for (const [type, key, value] of example.attributes) {
    if (type === 'string') sink.string(keyOf(key), value);
    else if (type === 'number') sink.number(keyOf(key), value);
    else sink.value(keyOf(key), value);
  }
  sink.end();
}

async function gatewayBytes(spans: Example[], keyOf?: KeyOf): Promise<Buffer> {
  const sent: Buffer[] = [];
  const processor = new OtlpBatchProcessor({
    settings: { scheduleDelayMs: 60_000, maxExportBatchSize: 512, maxQueueSize: 2048 },
    frame: requestFrame(origin.resource, origin.scope),
    sender: { export: async (request) => void sent.push(Buffer.from(request)), close: () => undefined },
  });
  for (const example of spans) write(processor, example, keyOf);
  await processor.shutdown();
  assert.equal(sent.length, 1, 'one batch');
  return sent[0] as Buffer;
}

function sdkBytes(spans: Example[]): Buffer {
  const finished: ReadableSpan[] = [];
  const collect: SpanProcessor = {
    onStart: () => undefined,
    onEnd: (span) => void finished.push(span),
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
  const sink = new ProcessorSpanSink(collect, origin);
  for (const example of spans) write(sink, example);
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(finished) as Uint8Array);
}

test('the gateway encoder writes the same bytes as the SDK serializer, span by span and for a batch', async () => {
  for (const example of examples) {
    assert.deepEqual((await gatewayBytes([example])).toString('hex'), sdkBytes([example]).toString('hex'), example.name);
  }
  const batch = Array.from({ length: 300 }, (_, index) => examples[index % examples.length] as Example);
  const ours = await gatewayBytes(batch);
  assert.ok(ours.length > 16_384, 'lengths of several bytes at every level');
  assert.ok(ours.equals(sdkBytes(batch)));
});

test('values remembered per key encode to the same bytes as values written directly, beyond the bound too', async () => {
  const keys = new Map<string, AttributeKey>();
  const shared: KeyOf = (name) => {
    let key = keys.get(name);
    if (!key) keys.set(name, (key = attributeKey(name, { repeats: name !== 'breakwater.request_id' })));
    return key;
  };
  const stop = Object.freeze(['stop']) as string[];
  const spans: Example[] = Array.from({ length: 200 }, (_, index) => ({
    ...(examples[index % 2] as Example),
    attributes: [
      ['string', 'http.request.method', 'POST'],
      ['string', 'gen_ai.request.model', `model-${index % 100}`], // 100 distinct values: more than are remembered
      ['string', 'breakwater.request_id', `request-${index}`],
      ['number', 'http.response.status_code', index % 7 === 0 ? 503 : 200],
      ['number', 'gen_ai.usage.output_tokens', index], // every value new
      ['number', 'breakwater.time_to_first_token_ms', index + 0.25],
      ['value', 'gen_ai.response.finish_reasons', stop], // frozen: remembered by identity
      ['value', 'several', ['a', `b${index}`]], // not frozen: written every time
    ],
  }));
  assert.ok((await gatewayBytes(spans, shared)).equals(sdkBytes(spans)));
  assert.equal(keys.get('gen_ai.request.model')?.strings?.size, maxRememberedValues, 'the remembered values are bounded');
  assert.equal(keys.get('http.request.method')?.strings?.size, 1);
  assert.equal(keys.get('gen_ai.response.finish_reasons')?.frozen?.size, 1);
  assert.equal(keys.get('several')?.frozen?.size, 0);
  assert.equal(keys.get('breakwater.request_id')?.strings, undefined, 'an unrepeated key remembers nothing');
});

test('the encoded request decodes to what was written', async () => {
  const decoded = decodeTraceRequest(await gatewayBytes(examples));
  assert.deepEqual(decoded.resource, { 'service.name': 'breakwater', 'service.version': '0.1.0', 'deployment.environment': 'tést', 'host.cpus': 2, sampled: true });
  assert.deepEqual(decoded.scope, { name: 'breakwater', version: '0.1.0' });
  assert.equal(decoded.spans.length, 3);
  const [first, second] = decoded.spans;
  assert.equal(first?.traceState, 'vendor=abc,other=x');
  assert.equal(first?.parentSpanId, caller.spanId);
  assert.equal(first?.kind, 2, 'OTLP SERVER');
  assert.equal(first?.flags, 0x301, 'sampled, parent remote');
  assert.equal(first?.startNanos, 1_763_900_000_123_500_000n);
  assert.equal(first?.attributes['breakwater.time_to_first_token_ms'], 12.75);
  assert.equal(second?.kind, 3, 'OTLP CLIENT');
  assert.equal(second?.statusCode, 2);
  assert.equal(second?.endNanos, second?.startNanos);
  assert.equal(second?.attributes['gen_ai.request.model'], 'modèle-ünïcode-✓');
  assert.equal(second?.attributes.negative, -42);
  assert.deepEqual(second?.attributes['gen_ai.response.finish_reasons'], ['stop']);
});
