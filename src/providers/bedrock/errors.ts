// Maps Bedrock errors (HTTP status + x-amzn-errortype, or a stream's exception event) to our error catalogue.
import { GatewayError } from '../../core/errors.js';
import { parseRetryAfter } from '../retry-after.js';

type Headers = Record<string, string | string[] | undefined>;

// Bedrock says a prompt is too long in several phrasings, depending on the model behind it.
const contextTooLong = /too long|context length|context window|maximum (?:input|context)|too many (?:input )?tokens|exceeds? the (?:maximum|max)/i;

/** `x-amzn-errortype: ValidationException:http://internal.amazon.com/…` → `ValidationException`. */
function errorType(headers: Headers, body: Record<string, unknown>): string | undefined {
  const header = headers['x-amzn-errortype'];
  const text = Array.isArray(header) ? header[0] : header;
  const fromBody = typeof body.__type === 'string' ? body.__type : undefined;
  const raw = text ?? fromBody;
  return raw?.split(':')[0]?.split('#').at(-1);
}

function readBody(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Not JSON: the status and error type still say what happened.
  }
  return {};
}

export function mapBedrockError(provider: string, status: number, headers: Headers, text: string): GatewayError {
  const body = readBody(text);
  const message = typeof body.message === 'string' ? body.message : typeof body.Message === 'string' ? body.Message : undefined;
  return bedrockError(provider, status, errorType(headers, body), message, parseRetryAfter(headers));
}

/** A ConverseStream exception event (`:exception-type` throttlingException, modelStreamErrorException…). */
export function mapBedrockStreamException(provider: string, exceptionType: string, payload: string): GatewayError {
  const body = readBody(payload);
  const message = typeof body.message === 'string' ? body.message : typeof body.Message === 'string' ? body.Message : undefined;
  const type = exceptionType.charAt(0).toUpperCase() + exceptionType.slice(1);
  return bedrockError(provider, streamStatus[type] ?? 500, type, message, undefined);
}

const streamStatus: Record<string, number> = {
  ThrottlingException: 429,
  ServiceUnavailableException: 503,
  ValidationException: 400,
  ModelStreamErrorException: 424,
  InternalServerException: 500,
  ModelTimeoutException: 408,
};

function bedrockError(provider: string, status: number, type: string | undefined, message: string | undefined, retryAfterMs: number | undefined): GatewayError {
  const detail = message ? `: ${message}` : '';
  const common = { provider, upstreamStatus: status };
  switch (type) {
    case 'ThrottlingException':
      return new GatewayError('BW_ERR_UPSTREAM_RATE_LIMITED', `upstream ${provider} throttled the request${detail}`, { ...common, upstreamKind: 'rate_limited', retryAfterMs });
    case 'ServiceUnavailableException':
    case 'ModelNotReadyException':
      return new GatewayError('BW_ERR_UPSTREAM_UNAVAILABLE', `upstream ${provider} is unavailable (${type})${detail}`, { ...common, upstreamKind: 'unavailable', retryAfterMs });
    case 'ModelTimeoutException':
      return new GatewayError('BW_ERR_UPSTREAM_TIMEOUT', `upstream ${provider}: the model timed out${detail}`, { ...common, upstreamKind: 'timeout_total' });
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
    case 'IncompleteSignatureException':
    case 'MissingAuthenticationTokenException':
      return new GatewayError('BW_ERR_UPSTREAM_AUTH', `upstream ${provider} refused the gateway's AWS credentials (${type})${detail}`, { ...common, upstreamKind: 'auth' });
    case 'ValidationException':
      return new GatewayError('BW_ERR_UPSTREAM_REJECTED', message ?? `upstream ${provider} rejected the request`, {
        ...common,
        status: 400,
        upstreamKind: 'rejected',
        publicCode: message && contextTooLong.test(message) ? 'context_length_exceeded' : 'invalid_request',
      });
    case 'ResourceNotFoundException':
      return new GatewayError('BW_ERR_UPSTREAM_REJECTED', message ?? `upstream ${provider} does not know the model`, { ...common, status: 404, upstreamKind: 'rejected', publicCode: 'model_not_found' });
    case 'ModelErrorException':
    case 'ModelStreamErrorException':
    case 'InternalServerException':
      return new GatewayError('BW_ERR_UPSTREAM_SERVER_ERROR', `upstream ${provider} failed (${type})${detail}`, { ...common, upstreamKind: 'server_error' });
  }
  if (status === 429) return new GatewayError('BW_ERR_UPSTREAM_RATE_LIMITED', `upstream ${provider} rate-limited the request${detail}`, { ...common, upstreamKind: 'rate_limited', retryAfterMs });
  if (status === 401 || status === 403) return new GatewayError('BW_ERR_UPSTREAM_AUTH', `upstream ${provider} refused the gateway's AWS credentials (HTTP ${status})${detail}`, { ...common, upstreamKind: 'auth' });
  if (status === 503) return new GatewayError('BW_ERR_UPSTREAM_UNAVAILABLE', `upstream ${provider} is unavailable (HTTP 503)${detail}`, { ...common, upstreamKind: 'unavailable', retryAfterMs });
  if (status === 408 || status === 504) return new GatewayError('BW_ERR_UPSTREAM_TIMEOUT', `upstream ${provider} timed out (HTTP ${status})${detail}`, { ...common, upstreamKind: 'timeout_total' });
  if (status >= 500) return new GatewayError('BW_ERR_UPSTREAM_SERVER_ERROR', `upstream ${provider} failed (HTTP ${status})${detail}`, { ...common, upstreamKind: 'server_error' });
  if (status >= 400) {
    return new GatewayError('BW_ERR_UPSTREAM_REJECTED', message ?? `upstream ${provider} rejected the request (HTTP ${status})`, { ...common, status, upstreamKind: 'rejected', publicCode: type ?? 'BW_ERR_UPSTREAM_REJECTED' });
  }
  return new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${provider} answered HTTP ${status}, which the gateway does not follow`, { ...common, upstreamKind: 'bad_response' });
}
