// The error catalogue: every failure the gateway reports has a stable code, an HTTP status,
// an OpenAI-style type and whether retrying it elsewhere can help. Responses are built from it
// in exactly one place (src/server/error-handler.ts).

export interface ErrorSpec {
  status: number;
  type: string;
  retryable: boolean;
}

export const errorCatalogue = {
  BW_ERR_INVALID_REQUEST: { status: 400, type: 'invalid_request_error', retryable: false },
  BW_ERR_UNAUTHORIZED: { status: 401, type: 'authentication_error', retryable: false },
  BW_ERR_NOT_FOUND: { status: 404, type: 'invalid_request_error', retryable: false },
  BW_ERR_MODEL_NOT_FOUND: { status: 404, type: 'invalid_request_error', retryable: false },
  BW_ERR_METHOD_NOT_ALLOWED: { status: 405, type: 'invalid_request_error', retryable: false },
  BW_ERR_BODY_TOO_LARGE: { status: 413, type: 'invalid_request_error', retryable: false },
  BW_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, type: 'invalid_request_error', retryable: false },
  BW_ERR_SHUTTING_DOWN: { status: 503, type: 'server_error', retryable: true },
  BW_ERR_INTERNAL: { status: 500, type: 'server_error', retryable: false },
  /** The upstream refused the request itself (400/404/422…): retrying or failing over cannot help. */
  BW_ERR_UPSTREAM_REJECTED: { status: 400, type: 'invalid_request_error', retryable: false },
  /** The upstream refused the gateway's own credentials (401/403): an operator problem, not the caller's. */
  BW_ERR_UPSTREAM_AUTH: { status: 502, type: 'upstream_error', retryable: false },
  BW_ERR_UPSTREAM_RATE_LIMITED: { status: 429, type: 'rate_limit_error', retryable: true },
  BW_ERR_UPSTREAM_UNAVAILABLE: { status: 503, type: 'upstream_error', retryable: true },
  BW_ERR_UPSTREAM_SERVER_ERROR: { status: 502, type: 'upstream_error', retryable: true },
  BW_ERR_UPSTREAM_TIMEOUT: { status: 504, type: 'timeout_error', retryable: true },
  BW_ERR_UPSTREAM_CONNECTION: { status: 502, type: 'upstream_error', retryable: true },
  BW_ERR_UPSTREAM_BAD_RESPONSE: { status: 502, type: 'upstream_error', retryable: true },
  BW_ERR_STREAM_INTERRUPTED: { status: 502, type: 'upstream_error', retryable: false },
  /** The provider refused the prompt on content-policy grounds (e.g. Gemini's promptFeedback.blockReason): sending it again cannot help. */
  BW_ERR_CONTENT_POLICY: { status: 400, type: 'invalid_request_error', retryable: false },
  /** Every candidate of the route failed or was unavailable (breakers open, cooling down after 429s). */
  BW_ERR_NO_HEALTHY_UPSTREAM: { status: 503, type: 'upstream_error', retryable: true },
  /** The Idempotency-Key was already used with a different body. */
  BW_ERR_IDEMPOTENCY_MISMATCH: { status: 422, type: 'invalid_request_error', retryable: false },
  /** A request with this Idempotency-Key is still running (on_concurrent: conflict, or the wait ran out). */
  BW_ERR_IDEMPOTENCY_IN_PROGRESS: { status: 409, type: 'invalid_request_error', retryable: true },
  /** The request's total deadline (config or x-breakwater-timeout-ms) passed. */
  BW_ERR_DEADLINE_EXCEEDED: { status: 504, type: 'timeout_error', retryable: false },
  /** A gateway rate limit (requests, tokens or concurrency per key, user, tier or model) refused the request; see Retry-After. */
  BW_ERR_RATE_LIMITED: { status: 429, type: 'rate_limit_error', retryable: true },
  /** A spend or token budget (per key, user, team, session or global, per day or month) is used up until the period resets. */
  BW_ERR_BUDGET_EXCEEDED: { status: 429, type: 'insufficient_quota', retryable: false },
  /** The request alone could cost more than the per-request budget allows (lower max_tokens). */
  BW_ERR_REQUEST_TOO_EXPENSIVE: { status: 400, type: 'invalid_request_error', retryable: false },
  /** The virtual key may not use this model. */
  BW_ERR_MODEL_NOT_ALLOWED: { status: 403, type: 'permission_error', retryable: false },
  /** The shared rate limiter (Redis) is unreachable and limits are configured to fail closed. */
  BW_ERR_LIMITER_UNAVAILABLE: { status: 503, type: 'server_error', retryable: true },
  /** The key store cannot be reached to check a key not seen recently. */
  BW_ERR_AUTH_UNAVAILABLE: { status: 503, type: 'server_error', retryable: true },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalogue;

/** Why an upstream call failed, for metrics (`upstream errors by kind`) and logs. */
export type UpstreamErrorKind =
  | 'rate_limited'
  | 'server_error'
  | 'unavailable'
  | 'timeout_connect'
  | 'timeout_first_byte'
  | 'timeout_idle'
  | 'timeout_total'
  | 'connection'
  | 'bad_response'
  | 'rejected'
  | 'auth'
  | 'stream_cut';

export interface GatewayErrorOptions {
  /** Overrides the catalogue status (an upstream 404 stays a 404 for the client). */
  status?: number;
  param?: string | null;
  /** The `code` shown to clients; defaults to the stable catalogue code. */
  publicCode?: string | null;
  /** Overrides the OpenAI-style type (an upstream's own type is kept when passing its error through). */
  type?: string;
  retryable?: boolean;
  /** Milliseconds the upstream asked us to wait (from Retry-After), when it said. */
  retryAfterMs?: number;
  upstreamKind?: UpstreamErrorKind;
  upstreamStatus?: number;
  provider?: string;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly publicCode: string | null;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly upstreamKind: UpstreamErrorKind | undefined;
  readonly upstreamStatus: number | undefined;
  readonly provider: string | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    // These are expected outcomes (an upstream said 503, a breaker is open), answered thousands of times a second
    // in an outage: capturing a stack trace for each costs more than the rest of the error path. Internal errors
    // keep theirs (and the cause's).
    const stackTraceLimit = Error.stackTraceLimit;
    if (code !== 'BW_ERR_INTERNAL') Error.stackTraceLimit = 0;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    Error.stackTraceLimit = stackTraceLimit;
    const spec: ErrorSpec = errorCatalogue[code];
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? spec.status;
    this.type = options.type ?? spec.type;
    this.param = options.param ?? null;
    this.publicCode = options.publicCode === undefined ? code : options.publicCode;
    this.retryable = options.retryable ?? spec.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.upstreamKind = options.upstreamKind;
    this.upstreamStatus = options.upstreamStatus;
    this.provider = options.provider;
  }

  /** The OpenAI error envelope clients (and the official SDKs) understand. */
  toEnvelope(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.publicCode } };
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}
