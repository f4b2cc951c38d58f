// The standard OTEL_* variables of an OTLP/HTTP trace exporter and of the batch span processor, read the way the
// OpenTelemetry JS SDK reads them, for the gateway's own protobuf exporter (otlp-batch-processor.ts).

export interface OtlpExportSettings {
  /** Where batches are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  url: URL;
  /** OTEL_EXPORTER_OTLP_HEADERS, overridden name by name by OTEL_EXPORTER_OTLP_TRACES_HEADERS. */
  headers: Record<string, string>;
  /** Per HTTP request: OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT, default 10 s. */
  timeoutMs: number;
  /** OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION. */
  compression: 'gzip' | 'none';
  /** OTEL_BSP_SCHEDULE_DELAY, default 5 s: a batch not full is sent this long after its first span. */
  scheduleDelayMs: number;
  /** OTEL_BSP_MAX_EXPORT_BATCH_SIZE, default 512 (at most the queue size). */
  maxExportBatchSize: number;
  /** OTEL_BSP_MAX_QUEUE_SIZE, default 2048: spans waiting (batched or being sent) beyond this are dropped. */
  maxQueueSize: number;
  /** OTEL_BSP_EXPORT_TIMEOUT, default 30 s: one batch's export, retries included. */
  exportTimeoutMs: number;
}

const defaultEndpoint = 'http://localhost:4318/v1/traces';

function text(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = text(env, name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}

/** `name=value,name2=value2`, names and values URL-decoded and trimmed (the SDK's format). */
export function parseHeaders(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!value) return headers;
  for (const entry of value.split(',')) {
    const equals = entry.indexOf('=');
    if (equals <= 0) continue;
    try {
      const name = decodeURIComponent(entry.slice(0, equals).trim());
      const headerValue = decodeURIComponent(entry.slice(equals + 1).trim());
      if (name !== '') headers[name.toLowerCase()] = headerValue;
    } catch {
      // A malformed %-escape: that header is skipped, as the SDK does.
    }
  }
  return headers;
}

function endpointOf(env: NodeJS.ProcessEnv): string {
  const specific = text(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (specific !== undefined) return specific;
  const generic = text(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (generic === undefined) return defaultEndpoint;
  return generic.endsWith('/') ? `${generic}v1/traces` : `${generic}/v1/traces`;
}

/**
 * The settings, or why the SDK's own exporter should be used instead (an endpoint that is not an http(s) URL, or
 * TLS client settings this exporter does not implement).
 */
export function otlpExportSettingsFromEnv(env: NodeJS.ProcessEnv): { settings: OtlpExportSettings } | { unsupported: string } {
  for (const name of ['CERTIFICATE', 'CLIENT_KEY', 'CLIENT_CERTIFICATE']) {
    if (text(env, `OTEL_EXPORTER_OTLP_${name}`) !== undefined || text(env, `OTEL_EXPORTER_OTLP_TRACES_${name}`) !== undefined) {
      return { unsupported: `OTEL_EXPORTER_OTLP_${name} is set` };
    }
  }
  let url: URL;
  try {
    url = new URL(endpointOf(env));
  } catch {
    return { unsupported: 'the OTLP endpoint is not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { unsupported: `the OTLP endpoint's scheme is ${url.protocol}` };
  const compression = (text(env, 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION') ?? text(env, 'OTEL_EXPORTER_OTLP_COMPRESSION') ?? 'none').toLowerCase();
  const maxQueueSize = Math.floor(positiveNumber(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048));
  return {
    settings: {
      url,
      headers: { ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS), ...parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS) },
      timeoutMs: positiveNumber(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', positiveNumber(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', 10_000)),
      compression: compression === 'gzip' ? 'gzip' : 'none',
      scheduleDelayMs: positiveNumber(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000),
      maxExportBatchSize: Math.min(maxQueueSize, Math.floor(positiveNumber(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512))),
      maxQueueSize,
      exportTimeoutMs: positiveNumber(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000),
    },
  };
}
