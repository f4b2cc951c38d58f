// Where the span builder writes a finished span: field by field, so the OTLP/protobuf processor can encode it
// straight into its batch (no attribute object, no ReadableSpan), while any SDK span processor (in-memory for tests,
// console, OTLP/JSON) still receives an ordinary ReadableSpan.
import { SpanStatusCode, type Attributes, type AttributeValue, type SpanContext, type SpanKind, type SpanStatus } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { AttributeKey } from './otlp-trace-encoding.js';
import { FinishedSpan, type SpanOrigin } from './tracing-finished-span.js';

/** One span at a time: begin, its attributes in order, end. */
export interface SpanSink {
  /** Starts a finished span. Epoch milliseconds; an end before the start is taken as the start. */
  begin(name: string, kind: SpanKind, context: SpanContext, parent: SpanContext | undefined, startMs: number, endMs: number, failed: boolean): void;
  /** Keys are made once by attributeKey() (otlp-trace-encoding.ts). */
  string(key: AttributeKey, value: string): void;
  number(key: AttributeKey, value: number): void;
  /** Any other attribute value (booleans, arrays); rare on the request path. */
  value(key: AttributeKey, value: AttributeValue): void;
  end(): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const unset: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
const error: SpanStatus = Object.freeze({ code: SpanStatusCode.ERROR });

/** Hands each span to an SDK span processor as a FinishedSpan. */
export class ProcessorSpanSink implements SpanSink {
  private name = '';
  private kind = 0 as SpanKind;
  private context: SpanContext | undefined;
  private parent: SpanContext | undefined;
  private startMs = 0;
  private endMs = 0;
  private failed = false;
  private attributes: Attributes = {};

  constructor(
    private readonly processor: SpanProcessor,
    private readonly origin: SpanOrigin,
  ) {}

  begin(name: string, kind: SpanKind, context: SpanContext, parent: SpanContext | undefined, startMs: number, endMs: number, failed: boolean): void {
    this.name = name;
    this.kind = kind;
    this.context = context;
    this.parent = parent;
    this.startMs = startMs;
    this.endMs = endMs;
    this.failed = failed;
    this.attributes = {};
  }

  string(key: AttributeKey, value: string): void {
    this.attributes[key.name] = value;
  }

  number(key: AttributeKey, value: number): void {
    this.attributes[key.name] = value;
  }

  value(key: AttributeKey, value: AttributeValue): void {
    this.attributes[key.name] = value;
  }

  end(): void {
    const span = new FinishedSpan(
      {
        name: this.name,
        kind: this.kind,
        context: this.context as SpanContext,
        parent: this.parent,
        startMs: this.startMs,
        endMs: this.endMs,
        status: this.failed ? error : unset,
        attributes: this.attributes,
      },
      this.origin,
    );
    this.context = undefined;
    this.parent = undefined;
    this.processor.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.processor.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.processor.shutdown();
  }
}
