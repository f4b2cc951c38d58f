// Reads the standard OpenTelemetry environment variables and decides whether tracing is on and where spans go.

/** What the environment asks for. Tracing is on only when an exporter is configured: off costs nothing. */
export interface TracingSettings {
  enabled: boolean;
  exporter: 'otlp' | 'console';
  /** OTLP wire protocol; the exporters read the endpoint, headers, timeout and compression themselves. */
  protocol: 'http/protobuf' | 'http/json';
  /** Set when the environment asked for something we do not support, with what we do instead. */
  warning?: string;
}

export function tracingSettingsFromEnv(env: NodeJS.ProcessEnv): TracingSettings {
  const exporterList = (env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase();
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const disabled = (env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true';
  // The spec allows a comma-separated list; one exporter is enough for a gateway, so the first one wins.
  const first = exporterList.split(',')[0]?.trim() ?? '';
  const wanted = first === '' ? (endpoint ? 'otlp' : 'none') : first;
  const { protocol, warning } = protocolFromEnv(env);
  if (disabled || wanted === 'none') return { enabled: false, exporter: 'otlp', protocol };
  if (wanted === 'console') return { enabled: true, exporter: 'console', protocol };
  if (wanted !== 'otlp') {
    return { enabled: true, exporter: 'otlp', protocol, warning: `OTEL_TRACES_EXPORTER=${first} is not supported; exporting OTLP instead` };
  }
  return { enabled: true, exporter: 'otlp', protocol, ...(warning ? { warning } : {}) };
}

function protocolFromEnv(env: NodeJS.ProcessEnv): { protocol: TracingSettings['protocol']; warning?: string } {
  const asked = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim().toLowerCase();
  if (asked === 'http/protobuf' || asked === 'http/json') return { protocol: asked };
  // gRPC would pull in @grpc/grpc-js for one exporter; every collector also listens for OTLP/HTTP (port 4318).
  return { protocol: 'http/protobuf', warning: `OTEL_EXPORTER_OTLP_PROTOCOL=${asked} is not supported; using http/protobuf (collector port 4318)` };
}
