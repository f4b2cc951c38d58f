// The one place errors become HTTP responses, always in the OpenAI error envelope.
import type { FastifyError } from 'fastify';
import { GatewayError, isGatewayError } from '../core/errors.js';

/** Turns anything thrown on the request path into a GatewayError (framework errors included). */
export function toGatewayError(error: unknown): GatewayError {
  if (isGatewayError(error)) return error;
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError('BW_ERR_BODY_TOO_LARGE', 'request body is larger than the configured limit (server.body_limit_bytes)');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError('BW_ERR_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError('BW_ERR_INVALID_REQUEST', 'body: the JSON body is empty', { param: 'body' });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatewayError('BW_ERR_INVALID_REQUEST', 'content-length does not match the body', { param: 'body' });
  }
  if (error instanceof SyntaxError || fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new GatewayError('BW_ERR_INVALID_REQUEST', `body: invalid JSON (${(error as Error).message})`, { param: 'body' });
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new GatewayError('BW_ERR_INVALID_REQUEST', fastifyError.message ?? 'invalid request', { status });
  }
  return new GatewayError('BW_ERR_INTERNAL', 'internal error in the gateway', { cause: error });
}

/** Headers that go with an error response (Retry-After when an upstream or the gateway asks clients to wait). */
export function errorHeaders(error: GatewayError): Record<string, string> {
  const headers: Record<string, string> = { 'x-breakwater-error-code': error.code };
  if (error.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
  else if (error.code === 'BW_ERR_SHUTTING_DOWN') headers['retry-after'] = '1';
  return headers;
}
