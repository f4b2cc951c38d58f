#!/usr/bin/env node
// Cache benchmark: (1) the semantic cache scored on the labelled pairs (test/cache/fixtures/semantic-pairs.tsv) for
// several embedders and thresholds, with and without the guard; (2) the latency a cache lookup adds on a miss
// (exact; exact + semantic) measured in-process around the cache step; (3) a hit served through the full server
// (JSON and SSE) over a keep-alive loopback connection. Prints markdown; with --write appends it to bench/RESULTS.md.
//
//   node --import tsx bench/cache-bench.mjs [--iterations 2000] [--write]
//
// Bounded: fixed iteration counts, every server closed at the end, all traffic on 127.0.0.1, Redis only if reachable.
import { appendFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import pino from 'pino';
import { LocalEmbedder } from '../src/cache/semantic/local-embedder.ts';
import { loadWordNet } from '../src/cache/semantic/wordnet.ts';
import { createGatewayCache } from '../src/cache/index.ts';
import { validateConfig } from '../src/config/load.ts';
import { Gateway } from '../src/server/gateway.ts';
import { loadPairs, score } from '../test/cache/semantic-evaluation.ts';
import { SimHashingEmbedder } from '../test/cache/sim-hashing-embedder.ts';

const { values: flags } = parseArgs({ options: { iterations: { type: 'string', default: '2000' }, write: { type: 'boolean', default: false } } });
const iterations = Math.min(50_000, Math.max(100, Number(flags.iterations)));
const lines = [];
const say = (line = '') => {
  lines.push(line);
  console.log(line);
};

function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p99: at(0.99) };
}
const ms = (value) => `${value.toFixed(3)} ms`;

// (1) Evaluation.
const lexicon = await loadWordNet();
const pairs = loadPairs();
say(`## Cache (issue 6) — ${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, Node ${process.version}`);
say();
say(`### Semantic cache on the labelled set (${pairs.filter((p) => p.label === 'hit').length} paraphrases that should hit, ${pairs.filter((p) => p.label === 'miss').length} near-misses that must not)`);
say();
say('All cached questions share one index; each new question is looked up; a hit is correct only when it found its own pair.');
say('Precision = correct hits / all hits; recall = correct paraphrase hits / paraphrases; "near-misses refused" = must-not-hit questions that got no cached answer.');
say();
say('| embedder (what the vectors are) | threshold | guard | precision | recall | near-misses refused |');
say('| --- | --- | --- | --- | --- | --- |');
const embedders = [
  ['local (built-in: lexical + WordNet 3.1 synsets, feature-hashed, 512 d)', new LocalEmbedder(lexicon)],
  ['local without WordNet (lexical only)', new LocalEmbedder(undefined)],
  ['simulator /v1/embeddings (word feature hashing, no meaning)', new SimHashingEmbedder()],
];
for (const [name, embedder] of embedders) {
  for (const threshold of [0.6, 0.7, 0.8, 0.9]) {
    for (const guard of [false, true]) {
      const result = await score(pairs, embedder, embedder instanceof LocalEmbedder && name.includes('without') ? undefined : lexicon, threshold, guard);
      say(`| ${name} | ${threshold} | ${guard ? 'on' : 'off'} | ${result.precision.toFixed(3)} | ${result.recall.toFixed(3)} | ${result.nearMissRejected.toFixed(3)} |`);
    }
  }
}
say();

// (2) Added latency of a lookup on a miss, in-process around the step (the executor replaced by a canned answer).
const canned = { id: 'chatcmpl-bench', object: 'chat.completion', created: 1, model: 'sim-fast', choices: [{ index: 0, message: { role: 'assistant', content: 'A cached answer of a typical short length, about forty words long, which is what most chat answers in a support bot look like when they are cached.' }, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: 40, total_tokens: 52 } };
const cannedRaw = JSON.stringify(canned);
const next = async () => ({ kind: 'json', result: { completion: canned, raw: cannedRaw } });
const logger = pino({ level: 'silent' });
const questions = pairs.map((pair) => pair.query);

let run = 0;
async function missLatency(label, cacheSection, stores = {}) {
  run++;
  // A key prefix of its own per run, so no run finds the previous run's entries in Redis.
  if (stores.redis) stores = { redis: { ...stores.redis, key_prefix: `${stores.redis.key_prefix}${run}:` } };
  const config = validateConfig({ providers: [{ name: 'sim', type: 'sim', models: ['sim-fast'] }], stores, cache: { enabled: true, ...cacheSection } });
  const built = createGatewayCache(config, { providers: new Map(), gatewayId: 10_000, logger });
  await built.cache.ready;
  const samples = [];
  for (let index = 0; index < iterations; index++) {
    const request = { model: 'sim-fast', temperature: 0, messages: [{ role: 'user', content: `${questions[index % questions.length]} (${index})` }] };
    const context = { record: { gatewayId: 10_000 }, signal: new AbortController().signal, clientHeaders: {}, principal: { keyId: 'bench' }, responseHeaders: {} };
    const started = performance.now();
    await built.step(request, context, next);
    samples.push(performance.now() - started);
  }
  await built.cache.close();
  const { p50, p99 } = percentiles(samples.slice(Math.floor(iterations / 10)));
  say(`| ${label} | ${ms(p50)} | ${ms(p99)} |`);
}

say(`### Latency a cache lookup adds on a miss (in-process, around the step; lookup + store; ${iterations} distinct questions, first 10 % dropped as warm-up)`);
say();
say(`Worst case for the semantic rows: every question lands in one partition (same tenant, model, parameters and conversation), so the exact search scans an index growing from 0 to ${iterations} vectors; a real deployment's partitions are smaller.`);
say();
say('| cache | p50 | p99 |');
say('| --- | --- | --- |');
const directory = mkdtempSync(path.join(os.tmpdir(), 'bw-cache-bench-'));
await missLatency('exact, L1 only', { store: 'memory' });
await missLatency('exact, L1 + SQLite L2', { store: 'sqlite' }, { sqlite: { path: path.join(directory, 'a.db') } });
let redisUp = false;
try {
  const { Redis } = await import('ioredis');
  const probe = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0 });
  await probe.connect();
  await probe.quit();
  redisUp = true;
} catch {
  say('| exact, L1 + Redis L2 | (Redis not reachable) | |');
}
const redisStores = { redis: { url: 'redis://127.0.0.1:6379', key_prefix: `bwbench:${process.pid}:`, command_timeout_ms: 1000 } };
if (redisUp) await missLatency('exact, L1 + Redis L2 (local)', { store: 'redis' }, redisStores);
await missLatency('exact + semantic (local embedder, guard), L1 only', { store: 'memory', semantic: { enabled: true } });
if (redisUp) await missLatency('exact + semantic (local embedder, guard), L1 + Redis L2', { store: 'redis', semantic: { enabled: true } }, redisStores);
say();

// (3) A hit through the full server.
const config = validateConfig({
  providers: [{ name: 'sim', type: 'sim', models: ['sim-fast'] }],
  server: { port: 0, host: '127.0.0.1' },
  logging: { level: 'silent' },
  stores: { sqlite: { path: path.join(directory, 'server.db') } },
  cache: { enabled: true, semantic: { enabled: true } },
});
const gateway = await Gateway.create(config, { logger });
const url = await gateway.listen();
await gateway.cache?.cache.ready;
const pool = new Pool(url, { connections: 1, pipelining: 1 });
async function timed(body, headers = {}) {
  const started = performance.now();
  const response = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  await response.body.text();
  const elapsed = performance.now() - started;
  return { elapsed, cache: response.headers['x-breakwater-cache'] };
}
async function serverCase(label, makeBody, expected) {
  const samples = [];
  for (let index = 0; index < iterations; index++) {
    const { elapsed, cache } = await timed(makeBody(index));
    if (cache !== expected) throw new Error(`${label}: expected ${expected}, got ${cache}`);
    samples.push(elapsed);
  }
  const { p50, p99 } = percentiles(samples.slice(Math.floor(iterations / 10)));
  say(`| ${label} | ${ms(p50)} | ${ms(p99)} |`);
}
const hitBody = { model: 'sim-fast', temperature: 0, messages: [{ role: 'user', content: 'How do I reset my password?' }] };
await timed(hitBody);
say(`### Served through the full server (HTTP/1.1 keep-alive on loopback, one connection, sequential; client in the same process; ${iterations} requests, first 10 % dropped)`);
say();
say('| request | p50 | p99 |');
say('| --- | --- | --- |');
await serverCase('exact hit, JSON', () => hitBody, 'hit');
await serverCase('exact hit, SSE stream', () => ({ ...hitBody, stream: true }), 'hit');
await serverCase('semantic hit, JSON (embed + search + guard)', () => ({ ...hitBody, messages: [{ role: 'user', content: 'What is the way to reset my password?' }] }), 'semantic-hit');
await serverCase('miss to the in-process simulator, JSON (for scale; exact + semantic lookup included)', (index) => ({ ...hitBody, messages: [{ role: 'user', content: `Question number ${index} about passwords` }] }), 'miss');
await pool.close();
await gateway.shutdown(1, 0);
say();
if (flags.write) appendFileSync(new URL('./RESULTS.md', import.meta.url), `\n${lines.join('\n')}\n`);
process.exit(0);
