// JSON logs (pino): one line per API request from the request events; secrets redacted, no prompt or completion text.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { RequestRecord, UpstreamErrorEvent } from './events.js';
import { BatchedLogWriter } from './log-writer.js';
import { traceIdOf } from './tracing-ids.js';

export const redactedPaths = [
  'authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  'api_key',
  '*.api_key',
  'master_key',
  '*.master_key',
  'config.auth.master_key',
];

/** ISO-8601 time of now, the prefix up to the second computed once per second (pino's isoTime makes a Date per line). */
let cachedSecond = -1;
let cachedPrefix = '';
export function isoNow(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const milliseconds = now - second * 1000;
  return `${cachedPrefix}${milliseconds < 10 ? '00' : milliseconds < 100 ? '0' : ''}${milliseconds}Z`;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { level, base: { service: 'breakwater' }, redact: { paths: redactedPaths, censor: '[redacted]' }, timestamp: () => `,"time":"${isoNow()}"` },
    // Batched asynchronous writes to stdout (see log-writer.ts), flushed synchronously when the process exits.
    destination ?? new BatchedLogWriter(1),
  );
}

const infoLevel = 30;
const warnLevel = 40;

export interface RequestLogOptions {
  /** Share of successful (status < 400) request lines written, 0..1; errors are always written. */
  successSampleRate?: number;
  /** Injectable for tests. */
  random?: () => number;
}

/** Writes the per-request log line and upstream-error lines for as long as it is subscribed. */
export class RequestLog {
  /** The logger's own destination: request lines join its other lines in one ordered stream. */
  private readonly destination: { write(line: string): unknown };
  private readonly successSampleRate: number;
  private readonly random: () => number;
  private readonly onEnd = (message: unknown) => {
    const record = message as RequestRecord;
    if (record.gatewayId !== this.gatewayId) return;
    // Sampling thins the routine lines only: anything a person would investigate is always written.
    if (record.status < 400 && !record.clientClosed && this.successSampleRate < 1 && this.random() >= this.successSampleRate) return;
    if (this.logger.levelVal > infoLevel) return;
    // Built by hand in pino's layout (level, time, service, fields, msg): only fixed, safe fields (no headers,
    // bodies or keys), so no redaction pass; strings a client can influence (request id, model) are JSON-escaped.
    let line = `{"level":${record.status >= 500 ? warnLevel : infoLevel},"time":"${isoNow()}","service":"breakwater","request_id":${JSON.stringify(record.requestId)}`;
    const traceId = traceIdOf(record);
    if (traceId !== undefined) line += `,"trace_id":"${traceId}"`;
    line += `,"method":${JSON.stringify(record.method)},"route":${JSON.stringify(record.route)}`;
    if (record.model !== undefined) line += `,"model":${JSON.stringify(record.model)}`;
    if (record.provider !== undefined) line += `,"provider":${JSON.stringify(record.provider)}`;
    if (record.stream !== undefined) line += `,"stream":${record.stream}`;
    line += `,"status":${record.status}`;
    if (record.durationMs !== undefined) line += `,"latency_ms":${Math.round(record.durationMs * 100) / 100}`;
    if (record.timeToFirstTokenMs !== undefined) line += `,"ttft_ms":${Math.round(record.timeToFirstTokenMs * 100) / 100}`;
    if (record.promptTokens !== undefined) line += `,"prompt_tokens":${record.promptTokens}`;
    if (record.completionTokens !== undefined) line += `,"completion_tokens":${record.completionTokens}`;
    if (record.errorCode !== undefined) line += `,"error_code":${JSON.stringify(record.errorCode)}`;
    if (record.attempts !== undefined) line += `,"attempts":${record.attempts}`;
    if (record.usageEstimated) line += ',"usage_estimated":true';
    if (record.clientClosed) line += ',"client_closed":true';
    if (record.cache !== undefined) line += `,"cache":${JSON.stringify(record.cache)}`;
    if (record.cacheSimilarity !== undefined) line += `,"cache_similarity":${record.cacheSimilarity}`;
    this.destination.write(`${line},"msg":"request"}\n`);
  };

  private readonly onUpstreamError = (message: unknown) => {
    const event = message as UpstreamErrorEvent;
    if (event.gatewayId !== this.gatewayId) return;
    this.logger.warn({ request_id: event.requestId, provider: event.provider, kind: event.kind, upstream_status: event.status }, 'upstream error');
  };

  constructor(
    private readonly logger: Logger,
    private readonly gatewayId: number,
    options: RequestLogOptions = {},
  ) {
    this.successSampleRate = options.successSampleRate ?? 1;
    this.random = options.random ?? Math.random;
    this.destination = (logger as unknown as Record<symbol, { write(line: string): unknown }>)[pino.symbols.streamSym]!;
    subscribe('breakwater:request:end', this.onEnd);
    subscribe('breakwater:upstream:error', this.onUpstreamError);
  }

  close(): void {
    unsubscribe('breakwater:request:end', this.onEnd);
    unsubscribe('breakwater:upstream:error', this.onUpstreamError);
  }
}

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
/** What the deferred child needs of its parent: pino's Logger, as Fastify types it. */
type ParentLogger = { level: string; child(bindings: pino.Bindings, options?: object): ParentLogger } & Record<LogMethod, (...values: never[]) => void>;

/**
 * Fastify's per-request logger (`request.log`), made into a pino child only when something logs through it. Fastify
 * asks for one on every request, and a pino child serialises its bindings when it is made (~2 µs, measured:
 * bench/RESULTS.md, ninth pass); the gateway writes its request lines itself, so `request.log` logs only on rare paths
 * (an internal error, a framework warning), where the child and its `reqId` are then made as pino would.
 */
class DeferredChildLogger {
  private made: ParentLogger | undefined;

  constructor(
    private readonly parent: ParentLogger,
    private readonly bindings: pino.Bindings,
    private readonly options: { level?: string },
  ) {}

  private get logger(): ParentLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  private write(method: LogMethod, values: unknown[]): void {
    const logger = this.logger;
    (logger[method] as (...values: unknown[]) => void).apply(logger, values);
  }

  fatal(...values: unknown[]): void {
    this.write('fatal', values);
  }

  error(...values: unknown[]): void {
    this.write('error', values);
  }

  warn(...values: unknown[]): void {
    this.write('warn', values);
  }

  info(...values: unknown[]): void {
    this.write('info', values);
  }

  debug(...values: unknown[]): void {
    this.write('debug', values);
  }

  trace(...values: unknown[]): void {
    this.write('trace', values);
  }

  silent(): void {}

  child(bindings: pino.Bindings, options?: object): ParentLogger {
    return this.logger.child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: the request's child logger, made on its first line (DeferredChildLogger). */
export function deferredChildLogger<L extends ParentLogger>(logger: L, bindings: pino.Bindings, options: { level?: string }): L {
  return new DeferredChildLogger(logger, bindings, options) as unknown as L;
}
