// Reads the standard OpenTelemetry environment variables and decides whether tracing is on, where spans go, and
// which requests are sampled.

/** OTEL_TRACES_SAMPLER(_ARG), as the span builder applies it once per request, at its start. */
export interface SamplerSettings {
  /** parentbased_*: a request continuing a caller's trace follows the caller's sampled flag. */
  parentBased: boolean;
  /** Share of new traces (no caller trace, or not parent-based) that are sampled, 0..1 (always_on 1, always_off 0). */
  ratio: number;
}

/** What the environment asks for. Tracing is on only when an exporter is configured: off costs nothing. */
export interface TracingSettings {
  enabled: boolean;
  exporter: 'otlp' | 'console';
  /** OTLP wire protocol; the exporters read the endpoint, headers, timeout and compression themselves. */
  protocol: 'http/protobuf' | 'http/json';
  sampler: SamplerSettings;
  /** Set when the environment asked for something we do not support, with what we do instead. */
  warning?: string;
}

/** The specification's default: parentbased_always_on. */
export const defaultSampler: SamplerSettings = { parentBased: true, ratio: 1 };

export function tracingSettingsFromEnv(env: NodeJS.ProcessEnv): TracingSettings {
  const exporterList = (env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase();
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const disabled = (env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true';
  // The spec allows a comma-separated list; one exporter is enough for a gateway, so the first one wins.
  const first = exporterList.split(',')[0]?.trim() ?? '';
  const wanted = first === '' ? (endpoint ? 'otlp' : 'none') : first;
  const { protocol, warning: protocolWarning } = protocolFromEnv(env);
  const { sampler, warning: samplerWarning } = samplerFromEnv(env);
  const warnings = [protocolWarning, samplerWarning];
  if (disabled || wanted === 'none') return { enabled: false, exporter: 'otlp', protocol, sampler };
  let exporter: TracingSettings['exporter'] = 'otlp';
  if (wanted === 'console') exporter = 'console';
  else if (wanted !== 'otlp') warnings.unshift(`OTEL_TRACES_EXPORTER=${first} is not supported; exporting OTLP instead`);
  const warning = warnings.filter((text) => text !== undefined).join('; ');
  return { enabled: true, exporter, protocol, sampler, ...(warning ? { warning } : {}) };
}

function protocolFromEnv(env: NodeJS.ProcessEnv): { protocol: TracingSettings['protocol']; warning?: string } {
  const asked = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim().toLowerCase();
  if (asked === 'http/protobuf' || asked === 'http/json') return { protocol: asked };
  // gRPC would pull in @grpc/grpc-js for one exporter; every collector also listens for OTLP/HTTP (port 4318).
  return { protocol: 'http/protobuf', warning: `OTEL_EXPORTER_OTLP_PROTOCOL=${asked} is not supported; using http/protobuf (collector port 4318)` };
}

/** The samplers the specification names for OTEL_TRACES_SAMPLER, as the SDK reads them. */
function samplerFromEnv(env: NodeJS.ProcessEnv): { sampler: SamplerSettings; warning?: string } {
  const name = (env.OTEL_TRACES_SAMPLER ?? '').trim().toLowerCase();
  const parentBased = name.startsWith('parentbased_');
  const root = parentBased ? name.slice('parentbased_'.length) : name;
  if (name === '') return { sampler: defaultSampler };
  if (root === 'always_on') return { sampler: { parentBased, ratio: 1 } };
  if (root === 'always_off') return { sampler: { parentBased, ratio: 0 } };
  if (root === 'traceidratio') {
    const text = (env.OTEL_TRACES_SAMPLER_ARG ?? '').trim();
    const ratio = Number(text);
    if (text === '' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
      return { sampler: { parentBased, ratio: 1 }, warning: `OTEL_TRACES_SAMPLER_ARG=${text} is not a ratio from 0 to 1; sampling every trace` };
    }
    return { sampler: { parentBased, ratio } };
  }
  return { sampler: defaultSampler, warning: `OTEL_TRACES_SAMPLER=${name} is not supported; using parentbased_always_on` };
}
