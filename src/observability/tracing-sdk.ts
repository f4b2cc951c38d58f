// The OpenTelemetry SDK side of tracing: tracer provider, resource, exporter, and the span builder's subscriptions.
// Loaded by tracing.ts only when tracing is on.
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanBuilder } from './tracing-spans.js';
import type { TracingSettings } from './tracing-settings.js';

const serviceVersion = '0.1.0';

export function startTracingSdk(settings: TracingSettings, spanProcessor?: SpanProcessor): { flush(): Promise<void>; shutdown(): Promise<void> } {
  // OTEL_BSP_* (batch size, delay, queue) and OTEL_TRACES_SAMPLER(_ARG) are read by the SDK itself.
  const processor = spanProcessor ?? new BatchSpanProcessor(exporterFor(settings));
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win over our defaults.
  const resource = resourceFromAttributes({ 'service.name': 'breakwater', 'service.version': serviceVersion }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  const builder = new SpanBuilder(provider.getTracer('breakwater', serviceVersion), new W3CTraceContextPropagator());
  return {
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      builder.close();
      await provider.shutdown();
    },
  };
}

function exporterFor(settings: TracingSettings): SpanExporter {
  if (settings.exporter === 'console') return new ConsoleSpanExporter();
  // The exporters read OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT and _COMPRESSION themselves.
  return settings.protocol === 'http/json' ? new JsonTraceExporter() : new ProtobufTraceExporter();
}
