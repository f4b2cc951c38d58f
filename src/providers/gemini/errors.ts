// Google API errors (`{error:{code,message,status,details}}`) → our error catalogue, with `retryable` set.
import { GatewayError } from '../../core/errors.js';
import { parseRetryAfter } from '../retry-after.js';
import { mapCommonStatus } from '../status-errors.js';

type Headers = Record<string, string | string[] | undefined>;

interface GoogleError {
  code?: number;
  message?: string;
  status?: string;
  details?: unknown[];
}

// "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."
const contextOverflowPattern = /input token count.*exceeds|exceeds the maximum number of tokens|context (length|window)/i;

function readError(body: string): GoogleError {
  try {
    const parsed = JSON.parse(body) as unknown;
    // Errors on streamGenerateContent without alt=sse come wrapped in an array.
    const first = Array.isArray(parsed) ? (parsed[0] as unknown) : parsed;
    if (typeof first === 'object' && first !== null && typeof (first as { error?: unknown }).error === 'object') return (first as { error: GoogleError }).error;
  } catch {
    // Not JSON: the status alone says what happened.
  }
  return {};
}

function detailsOfType(error: GoogleError, suffix: string): Array<Record<string, unknown>> {
  return (error.details ?? []).filter(
    (detail): detail is Record<string, unknown> => typeof detail === 'object' && detail !== null && String((detail as { '@type'?: unknown })['@type'] ?? '').endsWith(suffix),
  );
}

/** Google puts the wait in a RetryInfo detail (`"retryDelay": "37s"`) rather than a Retry-After header. */
function retryDelayMs(error: GoogleError, headers: Headers): number | undefined {
  const fromHeader = parseRetryAfter(headers);
  if (fromHeader !== undefined) return fromHeader;
  for (const detail of detailsOfType(error, 'google.rpc.RetryInfo')) {
    const match = typeof detail.retryDelay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(detail.retryDelay) : null;
    if (match) return Math.ceil(Number(match[1]) * 1000);
  }
  return undefined;
}

/** Google answers a bad API key with 400 INVALID_ARGUMENT; its ErrorInfo reason says what it really is. */
function isKeyProblem(error: GoogleError): boolean {
  if (detailsOfType(error, 'google.rpc.ErrorInfo').some((detail) => detail.reason === 'API_KEY_INVALID' || detail.reason === 'API_KEY_SERVICE_BLOCKED')) return true;
  return /API key not valid/i.test(error.message ?? '');
}

export function mapGeminiError(provider: string, status: number, headers: Headers, body: string): GatewayError {
  return mapGoogleError(provider, status, headers, readError(body));
}

/** An error object inside a 200 stream: mapped by the HTTP code it carries. */
export function mapGeminiStreamError(provider: string, data: unknown): GatewayError {
  const error = (data as { error?: GoogleError }).error ?? {};
  return mapGoogleError(provider, typeof error.code === 'number' ? error.code : 500, {}, error);
}

function mapGoogleError(provider: string, status: number, headers: Headers, error: GoogleError): GatewayError {
  const suffix = error.message ? `: ${error.message}` : '';
  const common = { provider, upstreamStatus: status };
  if (status === 429) {
    return new GatewayError('BW_ERR_UPSTREAM_RATE_LIMITED', `upstream ${provider} rate-limited the request${suffix}`, {
      ...common,
      upstreamKind: 'rate_limited',
      retryAfterMs: retryDelayMs(error, headers),
    });
  }
  if (status === 401 || status === 403 || (status === 400 && isKeyProblem(error))) {
    return new GatewayError('BW_ERR_UPSTREAM_AUTH', `upstream ${provider} refused the gateway's credentials (HTTP ${status})${suffix}`, { ...common, upstreamKind: 'auth' });
  }
  if (status === 503) {
    return new GatewayError('BW_ERR_UPSTREAM_UNAVAILABLE', `upstream ${provider} is unavailable (HTTP 503)${suffix}`, {
      ...common,
      upstreamKind: 'unavailable',
      retryAfterMs: retryDelayMs(error, headers),
    });
  }
  return mapCommonStatus(provider, status, error.message, contextOverflowPattern.test(error.message ?? ''));
}
