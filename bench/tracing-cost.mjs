// Tracing's CPU per request, in process: the channel messages of one API request (one upstream attempt) published in
// a loop through the real span builder, span processor and serializer, with `process.cpuUsage` over many requests.
// The collector stand-in runs in a child process so its CPU is not counted. Stable to about ±1 µs, unlike end-to-end
// runs. Usage (tsx loads the TypeScript sources; --src picks a checkout, e.g. one extracted by `git archive`):
//   node --import tsx bench/tracing-cost.mjs [--src ./src] [--requests 40000] [--rounds 5]
// Two generations of the span builder are understood: the one fed by undici's diagnostics channels (SpanBuilder with
// an SDK SpanProcessor) and the one fed by the gateway's own upstream channels (SpanBuilder with a SpanSink).
import { fork } from 'node:child_process';
import { channel } from 'node:diagnostics_channel';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    src: { type: 'string', default: './src' },
    requests: { type: 'string', default: '40000' },
    rounds: { type: 'string', default: '5' },
    child: { type: 'boolean', default: false },
    /** Comma-separated mode numbers (1-based, as printed) to run alone, e.g. for --cpu-prof. */
    only: { type: 'string' },
  },
});

if (args.child) {
  // The collector stand-in: reads every byte and answers 200.
  const server = createServer((request, response) => {
    request.on('data', () => undefined);
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  server.listen(0, '127.0.0.1', () => process.send?.(server.address().port));
} else {
  await main();
}

async function main() {
  const src = resolve(args.src);
  const load = (path) => import(pathToFileURL(`${src}/observability/${path}`).href);
  const spans = await load('tracing-spans.ts');
  const gatewayGeneration = spans.SpanBuilder.length === 2; // (sink, sampler) vs (processor, origin, sampler)
  const { sampleDecider } = await load('tracing-sampler.ts');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const sdk = await import('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  const { ProtobufTraceSerializer } = await import('@opentelemetry/otlp-transformer');
  const origin = { resource: resourceFromAttributes({ 'service.name': 'breakwater', 'service.version': '0.1.0' }), scope: { name: 'breakwater', version: '0.1.0' } };

  const collector = fork(new URL(import.meta.url).pathname, ['--child'], { stdio: 'inherit' });
  const port = await new Promise((done) => collector.once('message', done));
  const url = `http://127.0.0.1:${port}/v1/traces`;

  /** What spans go to, by mode: nothing, encoding only, or encoding and a real export. */
  async function pipeline(mode) {
    if (gatewayGeneration) {
      const { OtlpBatchProcessor } = await load('otlp-batch-processor.ts');
      const { requestFrame } = await load('otlp-trace-encoding.ts');
      const { OtlpHttpSender } = await load('otlp-http-sender.ts');
      const { otlpExportSettingsFromEnv } = await load('otlp-exporter-settings.ts');
      if (mode === 'build') {
        const noop = () => undefined;
        return { sink: { begin: noop, string: noop, number: noop, value: noop, end: noop, forceFlush: async () => undefined, shutdown: async () => undefined } };
      }
      const { settings } = otlpExportSettingsFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url });
      const sender = mode === 'export' ? new OtlpHttpSender(settings) : { export: async () => undefined, close: () => undefined };
      return { sink: new OtlpBatchProcessor({ settings, frame: requestFrame(origin.resource, origin.scope), sender }) };
    }
    if (mode === 'build') return { processor: { onStart() {}, onEnd() {}, forceFlush: async () => undefined, shutdown: async () => undefined } };
    const exporter =
      mode === 'export'
        ? new OTLPTraceExporter({ url })
        : { export: (batch, done) => (ProtobufTraceSerializer.serializeRequest(batch), done({ code: 0 })), shutdown: async () => undefined, forceFlush: async () => undefined };
    return { processor: new sdk.BatchSpanProcessor(exporter) };
  }

  const incoming = channel('http.server.request.start');
  const requestStart = channel('breakwater:request:start');
  const requestEnd = channel('breakwater:request:end');
  const attempt = channel('breakwater:upstream:attempt');
  const upstreamStart = channel('breakwater:upstream:request:start');
  const upstreamEnd = channel('breakwater:upstream:request:end');
  const undiciCreate = channel('undici:request:create');
  const undiciHeaders = channel('undici:request:headers');
  const undiciTrailers = channel('undici:request:trailers');
  const body = JSON.stringify({ model: 'tiny-model', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 16 });

  /** One API request's messages, as the server, executor and HTTP client (or undici) publish them. */
  function oneRequest(index) {
    const requestId = `req-${index}`;
    const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-bw-x', 'x-request-id': requestId };
    if (incoming.hasSubscribers) incoming.publish({ request: { method: 'POST', headers: { host: 'gw', 'content-type': 'application/json' } } });
    const record = { gatewayId: 1, requestId, route: '/v1/chat/completions', method: 'POST', startedAt: performance.now(), stream: false, status: 200, clientClosed: false };
    requestStart.publish(record);
    let upstreamHeaders = headers;
    let notice;
    let undiciRequest;
    if (upstreamStart.hasSubscribers) {
      notice = { requestId, method: 'POST', origin: 'http://127.0.0.1:4000', path: '/v1/chat/completions', body };
      upstreamStart.publish(notice);
      if (notice.traceparent !== undefined) upstreamHeaders = { ...headers, traceparent: notice.traceparent };
    }
    if (undiciCreate.hasSubscribers) {
      const flat = Object.entries(headers).flat();
      undiciRequest = { origin: 'http://127.0.0.1:4000', method: 'POST', path: '/v1/chat/completions', body, headers: flat, addHeader: (name, value) => flat.push(name, value) };
      undiciCreate.publish({ request: undiciRequest });
      undiciHeaders.publish({ request: undiciRequest, response: { statusCode: 200 } });
    }
    if (notice) notice.statusCode = 200;
    record.model = 'tiny-model';
    record.provider = 'tiny';
    attempt.publish({ gatewayId: 1, requestId, provider: 'tiny', model: 'tiny-model', attempt: 1, role: 'first', outcome: 'success', durationMs: 1 });
    if (undiciRequest) undiciTrailers.publish({ request: undiciRequest });
    if (notice) upstreamEnd.publish(notice);
    record.promptTokens = 7;
    record.completionTokens = 16;
    record.finishReason = 'stop';
    record.durationMs = performance.now() - record.startedAt;
    requestEnd.publish(record);
    return upstreamHeaders;
  }

  const requests = Number(args.requests);
  async function measure(mode, ratio) {
    let builder;
    let flush = async () => undefined;
    let shutdown = async () => undefined;
    if (mode !== 'off') {
      const made = await pipeline(mode);
      const decider = sampleDecider({ parentBased: true, ratio });
      builder = gatewayGeneration ? new spans.SpanBuilder(made.sink, decider) : new spans.SpanBuilder(made.processor, origin, decider);
      const target = made.sink ?? made.processor;
      flush = () => target.forceFlush();
      shutdown = () => target.shutdown();
    }
    // Warm up, then measure; the loop yields every 256 requests so batches are sent as they would be under load.
    for (let index = 0; index < 5000; index++) oneRequest(index);
    await flush();
    const before = process.cpuUsage();
    for (let index = 0; index < requests; index++) {
      oneRequest(index);
      if ((index & 255) === 255) await new Promise((done) => setImmediate(done));
    }
    await flush();
    const used = process.cpuUsage(before);
    builder?.close();
    await shutdown();
    return (used.user + used.system) / requests;
  }

  const modes = [
    ['off (nothing subscribed: the loop itself)', 'off', 1],
    ['span building (no export)', 'build', 1],
    ['+ protobuf encoding (every request sampled)', 'encode', 1],
    ['+ real OTLP/HTTP export to a local collector', 'export', 1],
    ['10 % sampled, real export', 'export', 0.1],
    ['0 % sampled (subscribed, nothing recorded)', 'export', 0],
  ];
  const results = new Map(modes.map(([label]) => [label, []]));
  const picked = args.only ? new Set(['1', ...args.only.split(',')].map(Number)) : undefined;
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const [index, [label, mode, ratio]] of modes.entries()) if (!picked || picked.has(index + 1)) results.get(label).push(await measure(mode, ratio));
  }
  collector.kill();
  const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const off = median(results.get(modes[0][0]));
  console.log(`${gatewayGeneration ? 'gateway-channel' : 'undici-channel'} span builder from ${src}; ${requests} requests × ${args.rounds} rounds; node ${process.version}`);
  console.log('| tracing cost per request (CPU µs, median, loop cost subtracted) | µs |');
  console.log('| --- | ---: |');
  for (const [label] of modes.slice(1)) if (results.get(label).length > 0) console.log(`| ${label} | ${(median(results.get(label)) - off).toFixed(1)} |`);
  console.log(`| (the loop alone) | ${off.toFixed(1)} |`);
}
