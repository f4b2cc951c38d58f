// OpenTelemetry tracing, configured by the standard OTEL_* environment variables. Without them the SDK is never
// loaded and nothing subscribes to any channel, so tracing off costs nothing on the request path.
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { defaultSampler, tracingSettingsFromEnv, type SamplerSettings, type TracingSettings } from './tracing-settings.js';

export interface TracingOptions {
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Replaces the exporter chosen from the environment and turns tracing on (tests pass an in-memory exporter here). */
  spanProcessor?: SpanProcessor;
  /** With spanProcessor: which requests are sampled (default parentbased_always_on). */
  sampler?: SamplerSettings;
  /** Where to say that tracing is on, or that the environment asked for something unsupported. */
  logger?: { info(object: object, message: string): void; warn(object: object, message: string): void };
}

export interface Tracing {
  readonly settings: TracingSettings;
  /** Exports every finished span now (before the process exits). */
  flush(): Promise<void>;
  /** Unsubscribes and shuts the exporter down; installTracing() may be called again afterwards. */
  shutdown(): Promise<void>;
}

let installed: Promise<Tracing | undefined> | undefined;

/**
 * Turns tracing on for this process if the environment asks for it (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER) or a span processor is given. Idempotent:
 * several gateways in one process share one tracer. Resolves undefined when tracing stays off.
 */
export function installTracing(options: TracingOptions = {}): Promise<Tracing | undefined> {
  if (installed) return installed;
  const settings: TracingSettings = options.spanProcessor
    ? { enabled: true, exporter: 'otlp', protocol: 'http/protobuf', sampler: options.sampler ?? defaultSampler }
    : tracingSettingsFromEnv(options.env ?? process.env);
  if (!settings.enabled) return Promise.resolve(undefined);
  if (settings.warning) options.logger?.warn({}, settings.warning);
  const loading = import('./tracing-sdk.js').then(async ({ startTracingSdk }) => {
    const started = await startTracingSdk(settings, options.spanProcessor, options.env ?? process.env, options.logger);
    const tracing: Tracing = {
      settings,
      flush: started.flush,
      shutdown: async () => {
        if (installed === loading) installed = undefined;
        await started.shutdown();
      },
    };
    options.logger?.info({ exporter: settings.exporter, protocol: settings.protocol, pipeline: started.pipeline }, 'tracing on');
    return tracing;
  });
  installed = loading;
  return loading;
}

/** Exports pending spans if tracing is on; a no-op otherwise. */
export async function flushTracing(): Promise<void> {
  const tracing = await installed;
  await tracing?.flush();
}
