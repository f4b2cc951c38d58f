// The part of upstream error mapping every translated provider shares: what a timeout, server error, refused
// request or unexpected status means once the provider's own special cases (rate limits, overload, auth) are handled.
import { GatewayError } from '../core/errors.js';

/**
 * `message` is the upstream's own error message, if it gave one; `overflow` tells whether it says the prompt was too
 * long for the model, so it is reported as OpenAI's `context_length_exceeded` whatever the provider.
 */
export function mapCommonStatus(provider: string, status: number, message: string | undefined, overflow: boolean): GatewayError {
  const suffix = message ? `: ${message}` : '';
  const common = { provider, upstreamStatus: status };
  if (status === 408 || status === 504) {
    return new GatewayError('BW_ERR_UPSTREAM_TIMEOUT', `upstream ${provider} timed out (HTTP ${status})${suffix}`, { ...common, upstreamKind: 'timeout_total' });
  }
  if (status >= 500) {
    return new GatewayError('BW_ERR_UPSTREAM_SERVER_ERROR', `upstream ${provider} failed (HTTP ${status})${suffix}`, { ...common, upstreamKind: 'server_error' });
  }
  if (status >= 400) {
    // The request itself was refused: the client sees the upstream's status and message.
    return new GatewayError('BW_ERR_UPSTREAM_REJECTED', message ?? `upstream ${provider} rejected the request (HTTP ${status})`, {
      ...common,
      status,
      upstreamKind: 'rejected',
      type: 'invalid_request_error',
      publicCode: overflow ? 'context_length_exceeded' : 'BW_ERR_UPSTREAM_REJECTED',
    });
  }
  return new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${provider} answered HTTP ${status}, which the gateway does not follow`, { ...common, upstreamKind: 'bad_response' });
}
