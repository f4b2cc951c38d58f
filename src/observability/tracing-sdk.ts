// The OpenTelemetry SDK side of tracing: resource, span processor and exporter, and the span builder's subscriptions.
// Loaded by tracing.ts only when tracing is on. The builder makes finished spans itself and hands them to the
// processor (no Tracer: see tracing-spans.ts), so the sampler is applied by the builder from OTEL_TRACES_SAMPLER.
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { sampleDecider } from './tracing-sampler.js';
import { SpanBuilder } from './tracing-spans.js';
import type { TracingSettings } from './tracing-settings.js';

const serviceVersion = '0.1.0';

export function startTracingSdk(settings: TracingSettings, spanProcessor?: SpanProcessor): { flush(): Promise<void>; shutdown(): Promise<void> } {
  // OTEL_BSP_* (batch size, delay, queue, export timeout) are read by the BatchSpanProcessor itself.
  const processor = spanProcessor ?? new BatchSpanProcessor(exporterFor(settings));
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win over our defaults.
  const resource = resourceFromAttributes({ 'service.name': 'breakwater', 'service.version': serviceVersion }).merge(detectResources({ detectors: [envDetector] }));
  const builder = new SpanBuilder(processor, { resource, scope: { name: 'breakwater', version: serviceVersion } }, sampleDecider(settings.sampler));
  return {
    flush: () => processor.forceFlush(),
    shutdown: async () => {
      builder.close();
      await processor.shutdown();
    },
  };
}

function exporterFor(settings: TracingSettings): SpanExporter {
  if (settings.exporter === 'console') return new ConsoleSpanExporter();
  // The exporters read OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT and _COMPRESSION themselves.
  return settings.protocol === 'http/json' ? new JsonTraceExporter() : new ProtobufTraceExporter();
}
