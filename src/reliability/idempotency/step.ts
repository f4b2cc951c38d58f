// The idempotency step: a POST with an `Idempotency-Key` runs once per caller and key. A repeat with the same
// body replays the stored answer byte for byte (streams included) without calling upstream; the same key with
// another body is refused (422); a duplicate arriving while the first is in flight waits for it (or gets 409).
import { createHash } from 'node:crypto';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletion, ChatCompletionChunk, StreamChunk } from '../../core/types.js';
import type { ChatOutcome, ChatStep, PipelineContext } from '../../pipeline/context.js';
import type { Clock } from '../clock.js';
import type { IdempotencyStore, StoredResponse } from './store.js';

export interface IdempotencySettings {
  ttl_seconds: number;
  lock_ttl_ms: number;
  on_concurrent: 'wait' | 'conflict';
  max_stored_bytes: number;
}

const maxKeyLength = 255;
const pollMs = 25;

export function idempotencyStep(store: IdempotencyStore, settings: IdempotencySettings, clock: Clock): ChatStep {
  // Duplicates in this process wait on the first one's promise instead of polling the store.
  const local = new Map<string, Promise<void>>();

  return async (request, context, next) => {
    const header = context.clientHeaders['idempotency-key'];
    if (header === undefined) return next(request);
    if (typeof header !== 'string' || header.length === 0 || header.length > maxKeyLength) {
      throw new GatewayError('BW_ERR_INVALID_REQUEST', `Idempotency-Key: must be 1 to ${maxKeyLength} characters`, { param: 'Idempotency-Key' });
    }
    // Scoped to the caller: another tenant's identical key is another record.
    const key = sha256(`${context.principal.team ?? ''}\n${context.principal.keyId}\n${header}`);
    const fingerprint = sha256(JSON.stringify(request));
    const giveUpAt = clock.now() + settings.lock_ttl_ms;

    for (;;) {
      const claim = await store.begin(key, fingerprint, settings.lock_ttl_ms);
      if (claim.state === 'acquired') break;
      if (claim.fingerprint !== fingerprint) {
        throw new GatewayError('BW_ERR_IDEMPOTENCY_MISMATCH', 'Idempotency-Key was already used with a different request body', { param: 'Idempotency-Key', publicCode: 'idempotency_key_reused' });
      }
      if (claim.state === 'done') return replay(claim.response, context);
      if (settings.on_concurrent === 'conflict') {
        throw new GatewayError('BW_ERR_IDEMPOTENCY_IN_PROGRESS', 'a request with this Idempotency-Key is still in progress; retry later', { retryAfterMs: 1_000 });
      }
      if (context.signal.aborted || clock.now() >= giveUpAt) {
        throw new GatewayError('BW_ERR_IDEMPOTENCY_IN_PROGRESS', 'a request with this Idempotency-Key is still in progress', { retryAfterMs: 1_000 });
      }
      // Another replica holds it: poll the shared store until it answers, gives up, or the lock expires.
      await (local.get(key) ?? clock.sleep(pollMs, context.signal));
    }

    let settle: () => void = () => undefined;
    local.set(key, new Promise<void>((resolve) => (settle = resolve)));
    const done = () => {
      local.delete(key);
      settle();
    };
    let outcome: ChatOutcome;
    try {
      outcome = await next(request);
    } catch (error) {
      // Failed requests are not remembered: the client's retry with the same key runs again.
      await store.release(key, fingerprint).catch(() => undefined);
      done();
      throw error;
    }
    const ttlMs = settings.ttl_seconds * 1000;
    if (outcome.kind === 'json') {
      const stored: StoredResponse = { kind: 'json', body: outcome.result.raw, ...served(context) };
      await saveOrRelease(store, key, fingerprint, stored, ttlMs, settings.max_stored_bytes);
      done();
      return outcome;
    }
    return { kind: 'stream', stream: recordStream(outcome.stream, { store, key, fingerprint, ttlMs, context, maxBytes: settings.max_stored_bytes, done }) };
  };
}

interface StreamRecording {
  store: IdempotencyStore;
  key: string;
  fingerprint: string;
  ttlMs: number;
  context: PipelineContext;
  maxBytes: number;
  done: () => void;
}

async function* recordStream(stream: AsyncIterable<StreamChunk>, recording: StreamRecording): AsyncGenerator<StreamChunk> {
  const events: string[] = [];
  let completed = false;
  try {
    for await (const item of stream) {
      events.push(item.raw ?? JSON.stringify(item.chunk));
      yield item;
    }
    completed = true;
  } finally {
    const { store, key, fingerprint, ttlMs, context, maxBytes, done } = recording;
    // Only a stream that ended normally is an answer; a cut or abandoned one is forgotten so it can run again.
    if (completed) await saveOrRelease(store, key, fingerprint, { kind: 'stream', body: events, ...served(context) }, ttlMs, maxBytes);
    else await store.release(key, fingerprint).catch(() => undefined);
    done();
  }
}

async function saveOrRelease(store: IdempotencyStore, key: string, fingerprint: string, response: StoredResponse, ttlMs: number, maxBytes: number): Promise<void> {
  const size = Array.isArray(response.body) ? response.body.reduce((sum, event) => sum + event.length, 0) : response.body.length;
  try {
    if (size > maxBytes) await store.release(key, fingerprint);
    else await store.complete(key, fingerprint, response, ttlMs);
  } catch {
    // The store is unreachable: the answer was served; a repeat will simply run again.
  }
}

function replay(response: StoredResponse, context: PipelineContext): ChatOutcome {
  if (response.provider) context.record.provider = response.provider;
  if (response.model) context.record.model = response.model;
  context.responseHeaders['x-breakwater-idempotent-replay'] = 'true';
  context.record.attempts = 0;
  if (response.kind === 'json' && typeof response.body === 'string') {
    const raw = response.body;
    return { kind: 'json', result: { completion: JSON.parse(raw) as ChatCompletion, raw } };
  }
  const events = Array.isArray(response.body) ? response.body : [];
  return { kind: 'stream', stream: replayEvents(events) };
}

async function* replayEvents(events: string[]): AsyncGenerator<StreamChunk> {
  for (const raw of events) yield { chunk: JSON.parse(raw) as ChatCompletionChunk, raw };
}

function served(context: PipelineContext): { provider?: string; model?: string } {
  return { ...(context.record.provider ? { provider: context.record.provider } : {}), ...(context.record.model ? { model: context.record.model } : {}) };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

