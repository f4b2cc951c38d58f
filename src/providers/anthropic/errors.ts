// Anthropic error responses and mid-stream `error` events → our error catalogue, with `retryable` set.
import { GatewayError } from '../../core/errors.js';
import { parseRetryAfter } from '../retry-after.js';
import { mapCommonStatus } from '../status-errors.js';
import { rateLimitResetWait } from './rate-limit-headers.js';

type Headers = Record<string, string | string[] | undefined>;

interface AnthropicErrorDetail {
  type?: string;
  message?: string;
}

// Anthropic signals a context overflow only in the message text ("prompt is too long: 210000 tokens > 200000 maximum").
const contextOverflowPattern = /prompt is too long|exceeds? the (model's )?(maximum )?context|context window/i;

/** The HTTP status Anthropic uses for an error type (for `error` events, which arrive inside a 200 stream). */
const statusForType: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

function readError(body: string): AnthropicErrorDetail {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'object' && parsed.error !== null) return parsed.error as AnthropicErrorDetail;
  } catch {
    // Not JSON (a proxy's HTML page): the status alone says what happened.
  }
  return {};
}

/** `now` (epoch ms) reads the RFC 3339 reset headers; injectable for tests. */
export function mapAnthropicError(provider: string, status: number, headers: Headers, body: string, now: number = Date.now()): GatewayError {
  return mapAnthropicErrorDetail(provider, status, headers, readError(body), now);
}

/** A mid-stream `event: error` (e.g. overloaded_error): mapped as if it had come with its type's HTTP status. */
export function mapAnthropicStreamError(provider: string, data: unknown): GatewayError {
  const detail = typeof data === 'object' && data !== null && typeof (data as { error?: unknown }).error === 'object' ? ((data as { error: AnthropicErrorDetail }).error) : {};
  const status = statusForType[detail.type ?? ''] ?? 500;
  return mapAnthropicErrorDetail(provider, status, {}, detail, Date.now());
}

/** Retry-After (or retry-after-ms) first; without one, when the exhausted rate limit resets. */
function waitHint(headers: Headers, now: number): number | undefined {
  return parseRetryAfter(headers, now) ?? rateLimitResetWait(headers, now);
}

function mapAnthropicErrorDetail(provider: string, status: number, headers: Headers, detail: AnthropicErrorDetail, now: number): GatewayError {
  const suffix = detail.message ? `: ${detail.message}` : '';
  const common = { provider, upstreamStatus: status };
  if (status === 429) {
    return new GatewayError('BW_ERR_UPSTREAM_RATE_LIMITED', `upstream ${provider} rate-limited the request${suffix}`, {
      ...common,
      upstreamKind: 'rate_limited',
      retryAfterMs: waitHint(headers, now),
    });
  }
  if (status === 401 || status === 403) {
    return new GatewayError('BW_ERR_UPSTREAM_AUTH', `upstream ${provider} refused the gateway's credentials (HTTP ${status})${suffix}`, { ...common, upstreamKind: 'auth' });
  }
  if (status === 529 || status === 503 || detail.type === 'overloaded_error') {
    return new GatewayError('BW_ERR_UPSTREAM_UNAVAILABLE', `upstream ${provider} is overloaded (HTTP ${status})${suffix}`, {
      ...common,
      upstreamKind: 'unavailable',
      retryAfterMs: waitHint(headers, now),
    });
  }
  return mapCommonStatus(provider, status, detail.message, contextOverflowPattern.test(detail.message ?? ''));
}
