// Load-generator worker: one autocannon warm-up run (discarded) then one measured run, against one URL.
// run.mjs launches it as a child under `taskset` so the load generator sits on its own core, apart from the
// servers under test. Input: one JSON argument. Output: one JSON line on stdout (nothing else is printed there).
//
//   node bench/load.mjs '{"url":"http://127.0.0.1:9000/v1/chat/completions","bodies":["{...}"],
//                         "headers":{},"connections":64,"duration":10,"warmup":2}'
//
// `bodies` with more than one entry makes every connection cycle through them (autocannon `requests`), which the
// soak uses to mix non-streaming and streaming requests.
import autocannon from 'autocannon';

const spec = JSON.parse(process.argv[2] ?? '{}');
if (!spec.url || !Array.isArray(spec.bodies) || spec.bodies.length === 0) {
  console.error('usage: node bench/load.mjs \'{"url":…,"bodies":[…],"connections":64,"duration":10,"warmup":2}\'');
  process.exit(2);
}
const url = new URL(spec.url);
// Traffic only to this machine: refuse anything but loopback.
if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
  console.error(`load.mjs: refusing non-loopback target ${url.hostname}`);
  process.exit(2);
}

function options(durationSeconds) {
  return {
    url: spec.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...spec.headers },
    // A single body is sent as-is; several are cycled through per connection.
    ...(spec.bodies.length === 1 ? { body: spec.bodies[0] } : { requests: spec.bodies.map((body) => ({ method: 'POST', body })) }),
    connections: spec.connections ?? 64,
    pipelining: 1,
    duration: durationSeconds,
    timeout: 10, // seconds per request; a slower one counts as a timeout error
  };
}

// autocannon's own histogram stores whole milliseconds, too coarse to see a sub-millisecond overhead; so every 2xx
// response time (a float in ms, from process.hrtime) is also kept here and the percentiles are computed from these.
// Bounded: at most maxSamples are kept (far above 10 s × any rate this machine reaches); past that, none are added.
const maxSamples = 8_000_000;
let samples = new Float64Array(1 << 16);
let sampleCount = 0;

function record(statusCode, responseTimeMs) {
  if (statusCode < 200 || statusCode > 299 || sampleCount >= maxSamples) return;
  if (sampleCount === samples.length) {
    const grown = new Float64Array(Math.min(samples.length * 2, maxSamples));
    grown.set(samples);
    samples = grown;
  }
  samples[sampleCount++] = responseTimeMs;
}

async function run(durationSeconds, keep) {
  // Called without a callback, autocannon returns a thenable EventEmitter: 'response' fires per response.
  const tracker = autocannon(options(durationSeconds));
  if (keep) tracker.on('response', (_client, statusCode, _bytes, responseTimeMs) => record(statusCode, responseTimeMs));
  return await tracker;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// Warm-up: JIT, keep-alive pools, lazy init — discarded (only its request count is kept, for the upstream cross-check).
const warmup = (spec.warmup ?? 0) > 0 ? await run(spec.warmup, false) : undefined;
const result = await run(spec.duration ?? 10, true);
const sorted = samples.subarray(0, sampleCount).sort();
const round = (value) => (value === null ? null : Math.round(value * 1000) / 1000);

// Responses of every status. (autocannon's requests.total sums whole-second samples and can miss the last part-second.)
const countResponses = (r) => r['1xx'] + r['2xx'] + r['3xx'] + r['4xx'] + r['5xx'];
const responses = countResponses(result);
process.stdout.write(
  JSON.stringify({
    // Successful responses per second over the measured run (autocannon's mean of per-second counts beside it).
    rps: result['2xx'] / result.duration,
    rpsPerSecondMean: result.requests.average,
    rpsStddev: result.requests.stddev,
    totalRequests: responses,
    warmupRequests: warmup ? countResponses(warmup) : 0,
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    // From the float samples above (2xx only, as autocannon's own histogram).
    latencyMs: { p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)), p99: round(percentile(sorted, 99)), max: round(percentile(sorted, 100)), samples: sampleCount },
    // autocannon's own figures (whole milliseconds), kept as a cross-check.
    autocannonLatencyMs: { p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.average },
    // Bytes read per response (headers + body): a cheap guard that streams were not cut short.
    bytesPerResponse: responses > 0 ? result.throughput.total / responses : 0,
    durationS: result.duration,
    // This worker's own CPU time (user+system, whole life): run.mjs counts it as ours when it sums up other load.
    workerCpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    connections: result.connections,
  }) + '\n',
);
