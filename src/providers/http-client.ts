// One keep-alive connection pool per upstream origin, with per-attempt timeouts; never follows redirects.
import { channel } from 'node:diagnostics_channel';
import { Pool, errors as undiciErrors } from 'undici';
import type { Dispatcher } from 'undici';
import { Cancellation, type CancelSignal } from '../core/cancellation.js';
import { GatewayError, type UpstreamErrorKind } from '../core/errors.js';
import type { TimeoutsConfig } from '../config/schema.js';
import { withHeader } from '../core/objects.js';

export interface UpstreamClientOptions {
  provider: string;
  baseUrl: string;
  timeouts: TimeoutsConfig;
  maxConnections: number;
  maxResponseBytes: number;
}

export interface UpstreamCall {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** Ends the call's timers and listeners; safe to call twice. */
  finish(): void;
  /** Maps a failure while reading the body to our error (idle timeout, cut connection, deadline…). */
  bodyError(error: unknown): Error;
}

/**
 * `breakwater:upstream:request:start` is published just before an upstream request is sent and
 * `breakwater:upstream:request:end` with the same message when its exchange is over (body read, stream ended or
 * failed). A subscriber (tracing) may set `traceparent`/`tracestate` at the start: they are sent upstream. Nothing
 * is allocated or published while nobody listens.
 */
export interface UpstreamRequestMessage {
  requestId: string | undefined;
  method: string;
  origin: string;
  /** As sent, query string included (a subscriber that records it should cut that: some providers put keys there). */
  path: string;
  /**
   * The upstream model the adapter asked for (it names the attempt's span). The message never holds the request
   * body: it lives as long as the exchange, a stream's whole length, and a prompt held that long is copied by the
   * garbage collector and promoted to the old generation on every request; nor does tracing scan prompts for it.
   */
  model: string | undefined;
  statusCode?: number;
  error?: unknown;
  traceparent?: string;
  tracestate?: string;
  /** Free for the subscriber's own state about this request. */
  context?: unknown;
}
const upstreamRequestStart = channel('breakwater:upstream:request:start');
const upstreamRequestEnd = channel('breakwater:upstream:request:end');

export class UpstreamClient {
  readonly provider: string;
  readonly maxResponseBytes: number;
  private readonly pool: Pool;
  private readonly pathPrefix: string;
  private readonly origin: string;
  private readonly timeouts: TimeoutsConfig;

  constructor(options: UpstreamClientOptions) {
    const url = new URL(options.baseUrl);
    this.provider = options.provider;
    this.timeouts = options.timeouts;
    this.maxResponseBytes = options.maxResponseBytes;
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    this.origin = url.origin;
    this.pool = new Pool(url.origin, {
      connections: options.maxConnections,
      connect: { timeout: options.timeouts.connect_ms },
      keepAliveTimeout: 30_000,
      pipelining: 1,
    });
  }

  /**
   * Sends one request upstream. Resolves when the response headers arrive (any status). `model` is the upstream model
   * the body asks for, published to subscribers (tracing) in the request's message.
   */
  async send(path: string, method: 'GET' | 'POST', headers: Record<string, string>, body: string | undefined, signal: CancelSignal, model?: string): Promise<UpstreamCall> {
    let notice: UpstreamRequestMessage | undefined;
    if (upstreamRequestStart.hasSubscribers) {
      // Every field present from the start: one object shape, whatever the subscriber sets.
      notice = { requestId: headers['x-request-id'], method, origin: this.origin, path: this.pathPrefix + path, model, statusCode: undefined, error: undefined, traceparent: undefined, tracestate: undefined, context: undefined };
      upstreamRequestStart.publish(notice);
      if (notice.traceparent !== undefined) {
        headers = withHeader(headers, 'traceparent', notice.traceparent);
        if (notice.tracestate) headers.tracestate = notice.tracestate;
      }
    }
    const controller = new Cancellation();
    let deadlineHit = false;
    const deadline = setTimeout(() => {
      deadlineHit = true;
      controller.abort();
    }, this.timeouts.total_ms);
    const onClientAbort = () => controller.abort();
    signal.addEventListener('abort', onClientAbort, { once: true });
    if (signal.aborted) controller.abort();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      signal.removeEventListener('abort', onClientAbort);
      if (notice) upstreamRequestEnd.publish(notice);
    };
    const mapError = (error: unknown, phase: 'headers' | 'body') => {
      if (notice) notice.error = error;
      finish();
      return transportError(error, this.provider, phase, deadlineHit, signal.aborted);
    };
    try {
      const response = await this.pool.request({
        path: this.pathPrefix + path,
        method,
        headers,
        body,
        signal: controller.signal,
        headersTimeout: this.timeouts.first_byte_ms,
        bodyTimeout: this.timeouts.idle_ms,
      });
      if (notice) notice.statusCode = response.statusCode;
      return {
        statusCode: response.statusCode,
        headers: response.headers,
        body: response.body,
        finish,
        bodyError: (error) => mapError(error, 'body'),
      };
    } catch (error) {
      throw mapError(error, 'headers');
    }
  }

  /** Reads a whole body as text, bounded by max_response_bytes. */
  async readText(call: UpstreamCall): Promise<string> {
    const parts: Buffer[] = [];
    let size = 0;
    try {
      for await (const part of call.body) {
        const buffer = part as Buffer;
        size += buffer.length;
        if (size > this.maxResponseBytes) {
          call.body.destroy();
          throw new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${this.provider} sent a response larger than ${this.maxResponseBytes} bytes`, {
            upstreamKind: 'bad_response',
            provider: this.provider,
          });
        }
        parts.push(buffer);
      }
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      throw call.bodyError(error);
    } finally {
      call.finish();
    }
    return parts.length === 1 ? (parts[0] as Buffer).toString('utf8') : Buffer.concat(parts).toString('utf8');
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Aborted because our own caller went away (client disconnect): not an upstream failure. */
export class CallAbortedError extends Error {
  constructor() {
    super('request aborted by the client');
    this.name = 'CallAbortedError';
  }
}

function transportError(error: unknown, provider: string, phase: 'headers' | 'body', deadlineHit: boolean, clientAborted: boolean): GatewayError | CallAbortedError {
  if (error instanceof GatewayError) return error;
  if (deadlineHit) return timeout(provider, 'timeout_total', 'the total upstream timeout passed');
  if (clientAborted) return new CallAbortedError();
  const code = (error as { code?: string }).code;
  const make = (kind: UpstreamErrorKind, message: string) =>
    new GatewayError('BW_ERR_UPSTREAM_CONNECTION', `upstream ${provider}: ${message}`, { upstreamKind: kind, provider, cause: error });
  if (error instanceof undiciErrors.HeadersTimeoutError || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return timeout(provider, 'timeout_first_byte', 'no response headers before the first-byte timeout');
  }
  if (error instanceof undiciErrors.BodyTimeoutError || code === 'UND_ERR_BODY_TIMEOUT') {
    return timeout(provider, 'timeout_idle', 'the upstream went silent past the idle timeout');
  }
  if (error instanceof undiciErrors.ConnectTimeoutError || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return timeout(provider, 'timeout_connect', 'connect timeout');
  }
  if (phase === 'body') return make('stream_cut', `the connection closed mid-response (${code ?? (error as Error).message})`);
  return make('connection', `connection failed (${code ?? (error as Error).message})`);
}

function timeout(provider: string, kind: UpstreamErrorKind, message: string): GatewayError {
  return new GatewayError('BW_ERR_UPSTREAM_TIMEOUT', `upstream ${provider}: ${message}`, { upstreamKind: kind, provider });
}
