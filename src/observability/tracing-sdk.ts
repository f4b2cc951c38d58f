// The OpenTelemetry SDK side of tracing: resource, span processor and exporter, and the span builder's subscriptions.
// Loaded by tracing.ts only when tracing is on. The builder writes finished spans itself (no Tracer: see
// tracing-spans.ts), so the sampler is applied by the builder from OTEL_TRACES_SAMPLER. OTLP/HTTP protobuf (the
// default) goes through the gateway's own batch processor (otlp-batch-processor.ts); OTLP/JSON, the console and a
// processor passed in (tests) through the SDK's.
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OtlpBatchProcessor } from './otlp-batch-processor.js';
import { otlpExportSettingsFromEnv } from './otlp-exporter-settings.js';
import { OtlpHttpSender } from './otlp-http-sender.js';
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

export function startTracingSdk(settings: TracingSettings, spanProcessor: SpanProcessor | undefined, env: NodeJS.ProcessEnv, logger?: Logger): StartedTracing {
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win over our defaults.
  const resource = resourceFromAttributes({ 'service.name': 'breakwater', 'service.version': serviceVersion }).merge(detectResources({ detectors: [envDetector] }));
  const origin: SpanOrigin = { resource, scope: { name: 'breakwater', version: serviceVersion } };
  const { sink, pipeline } = sinkFor(settings, spanProcessor, origin, env, logger);
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

function sinkFor(settings: TracingSettings, spanProcessor: SpanProcessor | undefined, origin: SpanOrigin, env: NodeJS.ProcessEnv, logger?: Logger): { sink: SpanSink; pipeline: StartedTracing['pipeline'] } {
  if (spanProcessor) return { sink: new ProcessorSpanSink(spanProcessor, origin), pipeline: 'sdk' };
  if (settings.exporter === 'otlp' && settings.protocol === 'http/protobuf') {
    const chosen = otlpExportSettingsFromEnv(env);
    if ('settings' in chosen) {
      const processor = new OtlpBatchProcessor({
        settings: chosen.settings,
        frame: requestFrame(origin.resource, origin.scope),
        sender: new OtlpHttpSender(chosen.settings),
        ...(logger ? { logger } : {}),
      });
      return { sink: processor, pipeline: 'gateway' };
    }
    logger?.info({ reason: chosen.unsupported }, 'tracing exports through the OpenTelemetry SDK exporter');
  }
  // OTEL_BSP_* (batch size, delay, queue, export timeout) are read by the BatchSpanProcessor itself.
  return { sink: new ProcessorSpanSink(new BatchSpanProcessor(exporterFor(settings)), origin), pipeline: 'sdk' };
}

function exporterFor(settings: TracingSettings): SpanExporter {
  if (settings.exporter === 'console') return new ConsoleSpanExporter();
  // The exporters read OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT and _COMPRESSION themselves.
  return settings.protocol === 'http/json' ? new JsonTraceExporter() : new ProtobufTraceExporter();
}
