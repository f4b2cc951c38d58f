// The OpenTelemetry SDK side of tracing: resource, span processor and exporter, and the span builder's subscriptions.
// Loaded by tracing.ts only when tracing is on. The builder writes finished spans itself (no Tracer: see
// tracing-spans.ts), so the sampler is applied by the builder from OTEL_TRACES_SAMPLER. OTLP/HTTP protobuf (the
// default) goes through the gateway's own batch processor (otlp-batch-processor.ts); OTLP/JSON, the console and a
// processor passed in (tests) through the SDK's, whose exporters are loaded only then (they bring node:http's client
// and protobufjs, which the default pipeline does not use).
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OtlpBatchProcessor } from './otlp-batch-processor.js';
import { otlpExportSettingsFromEnv } from './otlp-exporter-settings.js';
import { OtlpExportThread } from './otlp-export-thread.js';
import { requestFrame } from './otlp-trace-encoding.js';
import type { SpanOrigin } from './tracing-finished-span.js';
import { sampleDecider } from './tracing-sampler.js';
import { ProcessorSpanSink, type SpanSink } from './tracing-span-sink.js';
import { SpanBuilder } from './tracing-spans.js';
import type { TracingSettings } from './tracing-settings.js';

const serviceVersion = '0.1.0';

interface Logger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

export interface StartedTracing {
  /** `gateway` (our OTLP/protobuf processor) or `sdk`. */
  pipeline: 'gateway' | 'sdk';
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export async function startTracingSdk(settings: TracingSettings, spanProcessor: SpanProcessor | undefined, env: NodeJS.ProcessEnv, logger?: Logger): Promise<StartedTracing> {
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win over our defaults.
  const resource = resourceFromAttributes({ 'service.name': 'breakwater', 'service.version': serviceVersion }).merge(detectResources({ detectors: [envDetector] }));
  const origin: SpanOrigin = { resource, scope: { name: 'breakwater', version: serviceVersion } };
  const { sink, pipeline } = await sinkFor(settings, spanProcessor, origin, env, logger);
  const builder = new SpanBuilder(sink, sampleDecider(settings.sampler));
  return {
    pipeline,
    flush: () => sink.forceFlush(),
    shutdown: async () => {
      builder.close();
      await sink.shutdown();
    },
  };
}

async function sinkFor(settings: TracingSettings, spanProcessor: SpanProcessor | undefined, origin: SpanOrigin, env: NodeJS.ProcessEnv, logger?: Logger): Promise<{ sink: SpanSink; pipeline: StartedTracing['pipeline'] }> {
  if (spanProcessor) return { sink: new ProcessorSpanSink(spanProcessor, origin), pipeline: 'sdk' };
  if (settings.exporter === 'otlp' && settings.protocol === 'http/protobuf') {
    const chosen = otlpExportSettingsFromEnv(env);
    if ('settings' in chosen) {
      const processor = new OtlpBatchProcessor({
        settings: chosen.settings,
        frame: requestFrame(origin.resource, origin.scope),
        sender: new OtlpExportThread(chosen.settings, (error) => logger?.warn({ err: error }, 'trace export thread stopped; a new one starts with the next batch')),
        ...(logger ? { logger } : {}),
      });
      return { sink: processor, pipeline: 'gateway' };
    }
    logger?.info({ reason: chosen.unsupported }, 'tracing exports through the OpenTelemetry SDK exporter');
  }
  // OTEL_BSP_* (batch size, delay, queue, export timeout) are read by the BatchSpanProcessor itself.
  const { BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  return { sink: new ProcessorSpanSink(new BatchSpanProcessor(await exporterFor(settings)), origin), pipeline: 'sdk' };
}

async function exporterFor(settings: TracingSettings): Promise<SpanExporter> {
  if (settings.exporter === 'console') return new (await import('@opentelemetry/sdk-trace-base')).ConsoleSpanExporter();
  // The exporters read OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT and _COMPRESSION themselves.
  if (settings.protocol === 'http/json') return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
  return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
}
