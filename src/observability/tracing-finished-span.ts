// A finished span as the SDK's span processors and exporters read it (ReadableSpan), made in one step when the work
// it describes is over, for an SDK span processor (tracing-span-sink.ts's ProcessorSpanSink), instead of driving the
// SDK's live Span (attribute validation, limits and time conversions on every call, for every request). The default
// OTLP/protobuf path never makes these: it encodes the builder's fields directly (otlp-batch-processor.ts).
import type { Attributes, HrTime, Link, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

const noLinks: Link[] = [];
const noEvents: TimedEvent[] = [];
Object.freeze(noLinks);
Object.freeze(noEvents);

/** Epoch milliseconds (fractional) as [seconds, nanoseconds]. */
export function hrTimeOf(epochMs: number): HrTime {
  const seconds = Math.floor(epochMs / 1000);
  const nanoseconds = Math.min(999_999_999, Math.round((epochMs - seconds * 1000) * 1e6));
  return [seconds, nanoseconds];
}

/** What the builder knows when a span ends. */
export interface SpanFields {
  name: string;
  kind: SpanKind;
  context: SpanContext;
  parent: SpanContext | undefined;
  /** Epoch milliseconds. */
  startMs: number;
  endMs: number;
  status: SpanStatus;
  attributes: Attributes;
}

/** Shared by every span of the process: the SDK groups an export by resource and scope identity. */
export interface SpanOrigin {
  resource: Resource;
  scope: InstrumentationScope;
}

export class FinishedSpan implements ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly duration: HrTime;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  readonly links = noLinks;
  readonly events = noEvents;
  readonly ended = true;
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  private readonly context: SpanContext;

  constructor(fields: SpanFields, origin: SpanOrigin) {
    this.name = fields.name;
    this.kind = fields.kind;
    this.context = fields.context;
    this.parentSpanContext = fields.parent;
    const endMs = Math.max(fields.startMs, fields.endMs);
    this.startTime = hrTimeOf(fields.startMs);
    this.endTime = hrTimeOf(endMs);
    this.duration = hrTimeOf(endMs - fields.startMs);
    this.status = fields.status;
    this.attributes = fields.attributes;
    this.resource = origin.resource;
    this.instrumentationScope = origin.scope;
  }

  // A property holding an arrow function would be one closure per span; a method is shared.
  spanContext(): SpanContext {
    return this.context;
  }
}
