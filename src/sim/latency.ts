// Response pacing: the configured latency, optionally overridden per request by `x-sim-latency: ttft=50;token=5`.

import { SimRequestError } from './error-envelope.js';

/** Simulated model speed. Both default to 0 (respond as fast as possible). */
export interface SimLatency {
  /** Milliseconds before the response headers and first chunk (non-stream: before the whole response). */
  firstTokenMs?: number;
  /** Milliseconds between streamed token chunks (non-stream: added up per token before responding). */
  perTokenMs?: number;
}

export interface ResolvedLatency {
  firstTokenMs: number;
  perTokenMs: number;
}

export function resolveLatency(latency: SimLatency | undefined): ResolvedLatency {
  const firstTokenMs = latency?.firstTokenMs ?? 0;
  const perTokenMs = latency?.perTokenMs ?? 0;
  for (const [name, value] of [['firstTokenMs', firstTokenMs], ['perTokenMs', perTokenMs]] as const) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`latency.${name} must be a non-negative number, got ${value}`);
  }
  return { firstTokenMs, perTokenMs };
}

/** Applies an `x-sim-latency` header over the configured latency; a malformed header is the caller's 400. */
export function applyLatencyHeader(header: string, base: ResolvedLatency): ResolvedLatency {
  const latency = { ...base };
  for (const rawItem of header.split(';')) {
    const item = rawItem.trim();
    if (item === '') continue;
    const equals = item.indexOf('=');
    const key = equals === -1 ? item : item.slice(0, equals).trim().toLowerCase();
    const text = equals === -1 ? '' : item.slice(equals + 1).trim();
    const value = Number(text);
    if (text === '' || !Number.isFinite(value) || value < 0) {
      throw new SimRequestError(400, `x-sim-latency: "${key}" needs a non-negative number of milliseconds, got "${text}"`, { code: 'invalid_sim_latency' });
    }
    if (key === 'ttft') latency.firstTokenMs = value;
    else if (key === 'token') latency.perTokenMs = value;
    else throw new SimRequestError(400, `x-sim-latency: unknown key "${key}" (known: ttft, token)`, { code: 'invalid_sim_latency' });
  }
  return latency;
}
