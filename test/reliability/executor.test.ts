// The fallback executor on fake time, with scripted providers: no sockets, every policy decision visible.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { GatewayError } from '../../src/core/errors.js';
import type { ChatCompletion, ChatRequest } from '../../src/core/types.js';
import type { PipelineContext } from '../../src/pipeline/context.js';
import { CallAbortedError } from '../../src/providers/http-client.js';
import type { CallOptions, ChatResult, ProviderAdapter } from '../../src/providers/types.js';
import { FakeClock } from '../../src/reliability/clock.js';
import { Deployments } from '../../src/reliability/deployments.js';
import { FallbackExecutor } from '../../src/reliability/executor.js';
import type { Candidate, Route } from '../../src/routing/model-table.js';

type Script = Array<'ok' | GatewayError | ((options: CallOptions) => Promise<ChatResult>)>;

class ScriptedProvider implements ProviderAdapter {
  readonly type = 'fake';
  readonly forwardHeaderNames = [];
  calls: number[] = [];
  constructor(
    readonly name: string,
    private readonly script: Script,
    private readonly clock: FakeClock,
  ) {}
  async start(): Promise<void> {}
  async close(): Promise<void> {}
  async chat(_request: ChatRequest, options: CallOptions): Promise<ChatResult> {
    this.calls.push(this.clock.now());
    const step = this.script.length > 1 ? this.script.shift() : this.script[0];
    if (step === 'ok' || step === undefined) return result(this.name);
    if (step instanceof GatewayError) throw step;
    return step(options);
  }
  chatStream(): never {
    throw new Error('not used');
  }
  embeddings(): never {
    throw new Error('not used');
  }
}

function result(provider: string): ChatResult {
  const completion: ChatCompletion = { id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: provider }, finish_reason: 'stop' }] };
  return { completion, raw: JSON.stringify(completion) };
}

const unavailable = (retryAfterMs?: number) => new GatewayError('BW_ERR_UPSTREAM_UNAVAILABLE', 'upstream is unavailable (HTTP 503)', { upstreamKind: 'unavailable', ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
const rateLimited = (retryAfterMs: number) => new GatewayError('BW_ERR_UPSTREAM_RATE_LIMITED', 'upstream rate-limited the request', { upstreamKind: 'rate_limited', retryAfterMs });
const rejected = (status: number, code?: string) => new GatewayError('BW_ERR_UPSTREAM_REJECTED', 'bad request', { status, upstreamKind: 'rejected', ...(code ? { publicCode: code } : {}) });

function setup(reliability: Record<string, unknown> = {}, random = () => 0.5) {
  const clock = new FakeClock();
  const config = validateConfig({ providers: [{ name: 'sim', type: 'sim' }], reliability });
  const deployments = new Deployments(config.reliability, clock);
  const executor = new FallbackExecutor({ settings: config.reliability, deployments, clock, random });
  const context = (headers: Record<string, string> = {}): PipelineContext => ({
    record: { gatewayId: 0, requestId: 'r', route: '/v1/chat/completions', method: 'POST', startedAt: 0, stream: false, status: 0, clientClosed: false },
    signal: new AbortController().signal,
    clientHeaders: headers,
    principal: { keyId: 'anonymous' },
    responseHeaders: {},
  });
  return { clock, executor, context, deployments };
}

function route(...candidates: Array<{ provider: ScriptedProvider; tier?: number; contextWindow?: number }>): Route {
  return {
    model: 'public',
    candidates: candidates.map((candidate, index): Candidate => ({ provider: candidate.provider, upstreamModel: 'm', weight: 1, tier: candidate.tier ?? index, ...(candidate.contextWindow ? { contextWindow: candidate.contextWindow } : {}) })),
  };
}

const request: ChatRequest = { model: 'public', messages: [{ role: 'user', content: 'hi' }] };

/** Runs the executor while moving fake time forward until it settles. */
async function drive<T>(clock: FakeClock, work: Promise<T>): Promise<T> {
  let settled = false;
  const watched = work.finally(() => (settled = true));
  watched.catch(() => undefined); // observed below; this only keeps the rejection from counting as unhandled meanwhile
  for (let step = 0; step < 1_000 && !settled; step++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (!settled) await clock.advance(50);
  }
  return watched;
}

test('one 503 then success: retried once after a full-jitter wait within [0, base)', async () => {
  const { clock, executor, context } = setup({ backoff: { base_ms: 250, cap_ms: 8_000 } }, () => 0.6);
  const primary = new ScriptedProvider('primary', [unavailable(), 'ok'], clock);
  const ctx = context();
  const outcome = await drive(clock, executor.chat(route({ provider: primary }), request, ctx));
  assert.equal(outcome.kind, 'json');
  assert.equal(primary.calls.length, 2);
  const waited = (primary.calls[1] ?? 0) - (primary.calls[0] ?? 0);
  assert.ok(waited >= 150 && waited < 250, `waited ${waited} ms; expected 0.6 × 250 = 150 ms`);
  assert.equal(ctx.responseHeaders['x-breakwater-attempts'], '2');
});

test('400/401/404/422-style refusals are never retried', async () => {
  for (const error of [rejected(400), rejected(404), rejected(422)]) {
    const { clock, executor, context } = setup();
    const primary = new ScriptedProvider('primary', [error], clock);
    const backup = new ScriptedProvider('backup', ['ok'], clock);
    await assert.rejects(drive(clock, executor.chat(route({ provider: primary }, { provider: backup }), request, context())), (thrown: unknown) => thrown === error);
    assert.equal(primary.calls.length, 1);
    assert.equal(backup.calls.length, 0, 'a refused request is not failed over either');
  }
});

test('a retryable failure fails over at once to the next candidate, without waiting', async () => {
  const { clock, executor, context } = setup();
  const primary = new ScriptedProvider('primary', [new GatewayError('BW_ERR_UPSTREAM_CONNECTION', 'refused', { upstreamKind: 'connection' })], clock);
  const backup = new ScriptedProvider('backup', ['ok'], clock);
  const ctx = context();
  const outcome = await drive(clock, executor.chat(route({ provider: primary }, { provider: backup }), request, ctx));
  assert.equal(outcome.kind === 'json' && outcome.result.completion.choices[0]?.message.content, 'backup');
  assert.equal(backup.calls[0], primary.calls[0], 'no backoff before a fallback');
  assert.equal(ctx.record.provider, 'backup');
});

test('Retry-After: the deployment is not called again before it expires; the backup serves meanwhile', async () => {
  const { clock, executor, context } = setup();
  const primary = new ScriptedProvider('primary', [rateLimited(2_000), 'ok'], clock);
  const backup = new ScriptedProvider('backup', ['ok'], clock);
  const chain = route({ provider: primary }, { provider: backup });
  await drive(clock, executor.chat(chain, request, context()));
  for (let index = 0; index < 5; index++) {
    await executor.chat(chain, request, context());
    await clock.advance(300);
  }
  assert.equal(primary.calls.length, 1, 'zero early calls while cooling down');
  assert.equal(backup.calls.length, 6);
  await clock.advance(1_000);
  await executor.chat(chain, request, context());
  assert.equal(primary.calls.length, 2, 'called again once Retry-After passed');
});

test('a single deployment rate-limited briefly is waited for; a long Retry-After is answered with 429 at once', async () => {
  const short = setup();
  const brief = new ScriptedProvider('brief', [rateLimited(1_000), 'ok'], short.clock);
  await drive(short.clock, short.executor.chat(route({ provider: brief }), request, short.context()));
  assert.equal(brief.calls.length, 2);
  assert.ok((brief.calls[1] ?? 0) - (brief.calls[0] ?? 0) >= 1_000);
  const long = setup();
  const slow = new ScriptedProvider('slow', [rateLimited(60_000), 'ok'], long.clock);
  const chain = route({ provider: slow });
  await assert.rejects(drive(long.clock, long.executor.chat(chain, request, long.context())), (error: unknown) => error instanceof GatewayError && error.status === 429);
  await assert.rejects(long.executor.chat(chain, request, long.context()), (error: unknown) => error instanceof GatewayError && error.status === 429 && (error.retryAfterMs ?? 0) > 50_000);
  assert.equal(slow.calls.length, 1);
});

test('every candidate failing: a fast 503 with Retry-After and the reasons per candidate', async () => {
  const { clock, executor, context } = setup({ max_attempts: 2 });
  const primary = new ScriptedProvider('primary', [unavailable()], clock);
  const backup = new ScriptedProvider('backup', [new GatewayError('BW_ERR_UPSTREAM_TIMEOUT', 'timed out', { upstreamKind: 'timeout_first_byte' })], clock);
  await assert.rejects(drive(clock, executor.chat(route({ provider: primary }, { provider: backup }), request, context())), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 503);
    assert.equal(error.code, 'BW_ERR_NO_HEALTHY_UPSTREAM');
    assert.match(error.message, /primary\/m: upstream is unavailable/);
    assert.match(error.message, /backup\/m: timed out/);
    assert.ok((error.retryAfterMs ?? 0) > 0);
    return true;
  });
});

test('breaker: opens after the configured failures, then requests skip it (zero calls) until a probe', async () => {
  const { clock, executor, context, deployments } = setup({ max_attempts: 1, breaker: { consecutive_failures: 3, cooldown_ms: 5_000, half_open_probes: 1 } });
  const primary = new ScriptedProvider('primary', [unavailable()], clock);
  const chain = route({ provider: primary });
  for (let index = 0; index < 3; index++) await assert.rejects(executor.chat(chain, request, context()));
  assert.equal(deployments.get('primary/m').breaker.current, 'open');
  for (let index = 0; index < 10; index++) await assert.rejects(executor.chat(chain, request, context()), (error: unknown) => error instanceof GatewayError && error.code === 'BW_ERR_NO_HEALTHY_UPSTREAM');
  assert.equal(primary.calls.length, 3);
  await clock.advance(5_000);
  await assert.rejects(executor.chat(chain, request, context()));
  assert.equal(primary.calls.length, 4, 'exactly one probe after the cool-down');
});

test('context length exceeded falls back to the candidate with a larger context window', async () => {
  const { clock, executor, context } = setup();
  const small = new ScriptedProvider('small', [rejected(400, 'context_length_exceeded')], clock);
  const same = new ScriptedProvider('same', ['ok'], clock);
  const large = new ScriptedProvider('large', ['ok'], clock);
  const outcome = await drive(clock, executor.chat(route({ provider: small, contextWindow: 8_000 }, { provider: same, contextWindow: 8_000 }, { provider: large, contextWindow: 128_000 }), request, context()));
  assert.equal(outcome.kind === 'json' && outcome.result.completion.choices[0]?.message.content, 'large');
  assert.equal(same.calls.length, 0);
  const alone = new ScriptedProvider('alone', [rejected(400, 'context_length_exceeded')], clock);
  await assert.rejects(executor.chat(route({ provider: alone, contextWindow: 8_000 }), request, context()), (error: unknown) => error instanceof GatewayError && error.publicCode === 'context_length_exceeded');
});

test('content-policy refusals are returned by default, failed over only when configured', async () => {
  const refusal = () => new GatewayError('BW_ERR_UPSTREAM_REJECTED', 'refused by the safety system', { status: 400, publicCode: 'content_filter', upstreamKind: 'rejected' });
  const strict = setup();
  const strictBackup = new ScriptedProvider('backup', ['ok'], strict.clock);
  await assert.rejects(strict.executor.chat(route({ provider: new ScriptedProvider('p', [refusal()], strict.clock) }, { provider: strictBackup }), request, strict.context()));
  assert.equal(strictBackup.calls.length, 0);
  const lenient = setup({ on_content_policy: 'fallback' });
  const lenientBackup = new ScriptedProvider('backup', ['ok'], lenient.clock);
  await lenient.executor.chat(route({ provider: new ScriptedProvider('p', [refusal()], lenient.clock) }, { provider: lenientBackup }), request, lenient.context());
  assert.equal(lenientBackup.calls.length, 1);
});

test('the deadline covers every attempt; a client header may lower it but not raise it past the cap', async () => {
  const { clock, executor, context } = setup({ deadline: { default_ms: 10_000, max_ms: 20_000 } });
  const hanging = new ScriptedProvider('hang', [(options) => new Promise((_resolve, reject) => options.signal.addEventListener('abort', () => reject(new CallAbortedError())))], clock);
  const started = clock.now();
  await assert.rejects(drive(clock, executor.chat(route({ provider: hanging }), request, context({ 'x-breakwater-timeout-ms': '1000' }))), (error: unknown) => error instanceof GatewayError && error.code === 'BW_ERR_DEADLINE_EXCEEDED' && /1000 ms/.test(error.message));
  assert.ok(clock.now() - started <= 1_100);
  await assert.rejects(drive(clock, executor.chat(route({ provider: hanging }), request, context({ 'x-breakwater-timeout-ms': '999999' }))), (error: unknown) => error instanceof GatewayError && /20000 ms/.test(error.message));
});

test('retry budget: with every call failing, retries are refused beyond the budget', async () => {
  const { clock, executor, context } = setup({ max_attempts: 3, retry_budget: { ratio: 0.2, min_concurrent: 0, window_seconds: 10 }, breaker: { consecutive_failures: 1_000, min_calls: 1_000 } });
  const primary = new ScriptedProvider('primary', [unavailable()], clock);
  const backup = new ScriptedProvider('backup', [unavailable()], clock);
  const chain = route({ provider: primary }, { provider: backup });
  const requests = 100;
  for (let index = 0; index < requests; index++) await assert.rejects(drive(clock, executor.chat(chain, request, context())));
  const attempts = primary.calls.length + backup.calls.length;
  assert.ok(attempts / requests <= 1.25, `${attempts} attempts for ${requests} requests`);
});
