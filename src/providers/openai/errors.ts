// Maps an OpenAI-format error response (status + envelope) to our error catalogue, with `retryable` set.
import { GatewayError } from '../../core/errors.js';
import { parseRetryAfter } from '../retry-after.js';

interface UpstreamEnvelope {
  message?: string;
  type?: string;
  param?: string | null;
  code?: string | number | null;
}

export function mapOpenAIError(provider: string, status: number, headers: Record<string, string | string[] | undefined>, body: string): GatewayError {
  const upstream = readEnvelope(body);
  const detail = upstream.message ? `: ${upstream.message}` : '';
  const common = { provider, upstreamStatus: status };
  if (status === 429) {
    return new GatewayError('BW_ERR_UPSTREAM_RATE_LIMITED', `upstream ${provider} rate-limited the request${detail}`, {
      ...common,
      upstreamKind: 'rate_limited',
      retryAfterMs: parseRetryAfter(headers),
      publicCode: stringCode(upstream.code) ?? 'BW_ERR_UPSTREAM_RATE_LIMITED',
    });
  }
  if (status === 401 || status === 403) {
    return new GatewayError('BW_ERR_UPSTREAM_AUTH', `upstream ${provider} refused the gateway's credentials (HTTP ${status})${detail}`, {
      ...common,
      upstreamKind: 'auth',
    });
  }
  if (status === 408) {
    return new GatewayError('BW_ERR_UPSTREAM_TIMEOUT', `upstream ${provider} timed out (HTTP 408)${detail}`, { ...common, upstreamKind: 'timeout_total' });
  }
  if (status === 503 || status === 529) {
    return new GatewayError('BW_ERR_UPSTREAM_UNAVAILABLE', `upstream ${provider} is unavailable (HTTP ${status})${detail}`, {
      ...common,
      upstreamKind: 'unavailable',
      retryAfterMs: parseRetryAfter(headers),
    });
  }
  if (status === 504) {
    return new GatewayError('BW_ERR_UPSTREAM_TIMEOUT', `upstream ${provider} timed out (HTTP 504)${detail}`, { ...common, upstreamKind: 'server_error' });
  }
  if (status >= 500) {
    return new GatewayError('BW_ERR_UPSTREAM_SERVER_ERROR', `upstream ${provider} failed (HTTP ${status})${detail}`, { ...common, upstreamKind: 'server_error' });
  }
  if (status >= 400) {
    // The request itself was refused (bad parameter, unknown model, context too long): the client sees the
    // upstream's status, message, param and code, so `context_length_exceeded` and friends stay recognisable.
    return new GatewayError('BW_ERR_UPSTREAM_REJECTED', upstream.message ?? `upstream ${provider} rejected the request (HTTP ${status})`, {
      ...common,
      status,
      upstreamKind: 'rejected',
      param: upstream.param ?? null,
      type: upstream.type ?? 'invalid_request_error',
      publicCode: stringCode(upstream.code) ?? 'BW_ERR_UPSTREAM_REJECTED',
    });
  }
  return new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${provider} answered HTTP ${status}, which the gateway does not follow`, {
    ...common,
    upstreamKind: 'bad_response',
  });
}

function readEnvelope(body: string): UpstreamEnvelope {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (parsed && typeof parsed.error === 'object' && parsed.error !== null) return parsed.error as UpstreamEnvelope;
    if (parsed && typeof parsed.error === 'string') return { message: parsed.error };
  } catch {
    // Not JSON: the status alone says what happened.
  }
  return {};
}

function stringCode(code: string | number | null | undefined): string | undefined {
  return code === null || code === undefined ? undefined : String(code);
}
