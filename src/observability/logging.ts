// JSON logs (pino): one line per API request from the request events; secrets redacted, no prompt or completion text.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { RequestRecord, UpstreamErrorEvent } from './events.js';

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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { level, base: { service: 'breakwater' }, redact: { paths: redactedPaths, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? pino.destination({ sync: false }),
  );
}

/** Writes the per-request log line and upstream-error lines for as long as it is subscribed. */
export class RequestLog {
  private readonly onEnd = (message: unknown) => {
    const record = message as RequestRecord;
    if (record.gatewayId !== this.gatewayId) return;
    const line = {
      request_id: record.requestId,
      method: record.method,
      route: record.route,
      model: record.model,
      provider: record.provider,
      stream: record.stream,
      status: record.status,
      latency_ms: record.durationMs === undefined ? undefined : Math.round(record.durationMs * 100) / 100,
      ttft_ms: record.timeToFirstTokenMs === undefined ? undefined : Math.round(record.timeToFirstTokenMs * 100) / 100,
      prompt_tokens: record.promptTokens,
      completion_tokens: record.completionTokens,
      error_code: record.errorCode,
      client_closed: record.clientClosed || undefined,
    };
    if (record.status >= 500) this.logger.warn(line, 'request');
    else this.logger.info(line, 'request');
  };

  private readonly onUpstreamError = (message: unknown) => {
    const event = message as UpstreamErrorEvent;
    if (event.gatewayId !== this.gatewayId) return;
    this.logger.warn({ request_id: event.requestId, provider: event.provider, kind: event.kind, upstream_status: event.status }, 'upstream error');
  };

  constructor(
    private readonly logger: Logger,
    private readonly gatewayId: number,
  ) {
    subscribe('breakwater:request:end', this.onEnd);
    subscribe('breakwater:upstream:error', this.onUpstreamError);
  }

  close(): void {
    unsubscribe('breakwater:request:end', this.onEnd);
    unsubscribe('breakwater:upstream:error', this.onUpstreamError);
  }
}
