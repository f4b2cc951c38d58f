// OTLP trace protobuf encoding: ExportTraceServiceRequest → ResourceSpans → ScopeSpans → Span, written field by
// field in the order @opentelemetry/otlp-transformer's ProtobufTraceSerializer writes them, so a batch encoded here
// is byte for byte what the SDK's exporter would have sent. Resource and scope are encoded once per process; each
// span is encoded into the batch as it ends, and a batch becomes a request by prefixing the two headers.
import type { SpanContext, SpanKind } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { ProtobufWriter, varintSize, wireFixed32, wireFixed64, wireLengthDelimited, wireVarint, writeStringAt } from './otlp-protobuf-writer.js';

const hasIsRemote = 0x100;
const isRemoteFlag = 0x200;
const maxInt64 = 2 ** 63;

/** An attribute value as OTLP AnyValue (field numbers of common.proto). */
export function writeAnyValue(writer: ProtobufWriter, value: unknown): void {
  if (typeof value === 'string') {
    writer.tag(1, wireLengthDelimited);
    writer.string(value);
  } else if (typeof value === 'boolean') {
    writer.tag(2, wireVarint);
    writer.varint(value ? 1 : 0);
  } else if (typeof value === 'number') {
    writeNumber(writer, value);
  } else if (value instanceof Uint8Array) {
    writer.tag(7, wireLengthDelimited);
    writer.varint(value.length);
    writer.raw(value);
  } else if (Array.isArray(value)) {
    writer.tag(5, wireLengthDelimited);
    const array = writer.startLength();
    for (const item of value as unknown[]) {
      writer.tag(1, wireLengthDelimited);
      const itemStart = writer.startLength();
      writeAnyValue(writer, item);
      writer.finishLength(itemStart);
    }
    writer.finishLength(array);
  } else if (typeof value === 'object' && value !== null) {
    writer.tag(6, wireLengthDelimited);
    const list = writer.startLength();
    for (const [key, item] of Object.entries(value)) {
      writer.tag(1, wireLengthDelimited);
      const pair = writer.startLength();
      writeKeyValue(writer, key, item);
      writer.finishLength(pair);
    }
    writer.finishLength(list);
  }
  // Anything else (undefined, functions…) is written as an empty AnyValue, as the SDK does.
}

function writeNumber(writer: ProtobufWriter, value: number): void {
  if (Number.isInteger(value) && value >= -maxInt64 && value < maxInt64) {
    writer.tag(3, wireVarint);
    writer.int64(value);
  } else {
    writer.tag(4, wireFixed64);
    writer.double(value);
  }
}

function writeKeyValue(writer: ProtobufWriter, key: string, value: unknown): void {
  writer.tag(1, wireLengthDelimited);
  writer.string(key);
  writer.tag(2, wireLengthDelimited);
  const start = writer.startLength();
  writeAnyValue(writer, value);
  writer.finishLength(start);
}

function writeAttributes(writer: ProtobufWriter, attributes: Record<string, unknown>, field: number): void {
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    writer.tag(field, wireLengthDelimited);
    const start = writer.startLength();
    writeKeyValue(writer, key, attributes[key]);
    writer.finishLength(start);
  }
}

function bytesOf(write: (writer: ProtobufWriter) => void): Buffer {
  const writer = new ProtobufWriter(1024);
  write(writer);
  return Buffer.from(writer.buffer.subarray(0, writer.pos));
}

/** The parts of a request that are the same for every batch of this process. */
export interface RequestFrame {
  /** `resource` field (1) of ResourceSpans, tag included. */
  resource: Buffer;
  /** `scope` field (1) of ScopeSpans, tag included. */
  scope: Buffer;
  /** ScopeSpans' schema_url field, or empty. */
  scopeSchema: Buffer;
  /** ResourceSpans' schema_url field, or empty. */
  resourceSchema: Buffer;
}

export function requestFrame(resource: Resource, scope: InstrumentationScope): RequestFrame {
  return {
    resource: bytesOf((writer) => {
      writer.tag(1, wireLengthDelimited);
      const start = writer.startLength();
      writeAttributes(writer, resource.attributes, 1);
      writer.tag(2, wireVarint);
      writer.varint(0);
      writer.finishLength(start);
    }),
    scope: bytesOf((writer) => {
      writer.tag(1, wireLengthDelimited);
      const start = writer.startLength();
      writer.tag(1, wireLengthDelimited);
      writer.string(scope.name);
      if (scope.version) {
        writer.tag(2, wireLengthDelimited);
        writer.string(scope.version);
      }
      writer.finishLength(start);
    }),
    scopeSchema: scope.schemaUrl ? bytesOf((writer) => (writer.tag(3, wireLengthDelimited), writer.string(scope.schemaUrl as string))) : Buffer.alloc(0),
    resourceSchema: resource.schemaUrl ? bytesOf((writer) => (writer.tag(3, wireLengthDelimited), writer.string(resource.schemaUrl as string))) : Buffer.alloc(0),
  };
}

/** Bytes to keep free before a batch's first span for the request headers encodeRequest() writes there. */
export function requestHeadroom(frame: RequestFrame): number {
  return 1 + 5 + frame.resource.length + 1 + 5 + frame.scope.length;
}

function varintAt(buffer: Buffer, pos: number, value: number): void {
  while (value > 0x7f) {
    buffer[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buffer[pos] = value;
}

/**
 * Completes a batch into a whole ExportTraceServiceRequest, in place: `batch` holds encoded ScopeSpans.spans fields
 * (tags included) from requestHeadroom(frame) to its position. The request is a view of the batch's buffer.
 */
export function encodeRequest(frame: RequestFrame, batch: ProtobufWriter): Buffer {
  const headroom = requestHeadroom(frame);
  const spansLength = batch.pos - headroom;
  batch.raw(frame.scopeSchema);
  batch.raw(frame.resourceSchema);
  const scopeSpansLength = frame.scope.length + spansLength + frame.scopeSchema.length;
  const resourceSpansLength = frame.resource.length + 1 + varintSize(scopeSpansLength) + scopeSpansLength + frame.resourceSchema.length;
  const start = headroom - (1 + varintSize(resourceSpansLength) + frame.resource.length + 1 + varintSize(scopeSpansLength) + frame.scope.length);
  const buffer = batch.buffer;
  let pos = start;
  buffer[pos++] = (1 << 3) | wireLengthDelimited;
  varintAt(buffer, pos, resourceSpansLength);
  pos += varintSize(resourceSpansLength);
  buffer.set(frame.resource, pos);
  pos += frame.resource.length;
  buffer[pos++] = (2 << 3) | wireLengthDelimited;
  varintAt(buffer, pos, scopeSpansLength);
  pos += varintSize(scopeSpansLength);
  buffer.set(frame.scope, pos);
  return buffer.subarray(start, batch.pos);
}

/**
 * Writes one Span into a batch, in three steps so attributes go straight from the builder into the buffer:
 * beginSpan (fields 1–8), attributes (field 9, one call each), endSpan (fields 10–16). Returns endSpan's argument.
 */
export function beginSpan(
  writer: ProtobufWriter,
  name: string,
  kind: SpanKind,
  context: SpanContext,
  traceState: string | undefined,
  parent: SpanContext | undefined,
  startMs: number,
  endMs: number,
): number {
  writer.tag(2, wireLengthDelimited);
  const start = writer.startLength();
  writer.tag(1, wireLengthDelimited);
  writer.hexBytes(context.traceId);
  writer.tag(2, wireLengthDelimited);
  writer.hexBytes(context.spanId);
  if (traceState) {
    writer.tag(3, wireLengthDelimited);
    writer.string(traceState);
  }
  if (parent?.spanId) {
    writer.tag(4, wireLengthDelimited);
    writer.hexBytes(parent.spanId);
  }
  writer.tag(5, wireLengthDelimited);
  writer.string(name);
  // OTLP's SpanKind is the API's plus one (0 is "unspecified").
  writer.tag(6, wireVarint);
  writer.varint(kind + 1);
  writer.tag(7, wireFixed64);
  writer.epochNanos(startMs);
  writer.tag(8, wireFixed64);
  writer.epochNanos(Math.max(startMs, endMs));
  return start;
}

// The attribute writers the span builder calls ~20 times per traced request. Most values repeat from request to
// request (method, route, model, provider, url, status, port), so each key keeps the whole encoded KeyValue field of
// the values it has seen, up to `maxRememberedValues`, and such an attribute is one native copy into the batch. A
// value not remembered (a request id, a key whose cache is full) is written directly: the key's bytes (encoded once
// per process) by one native copy, then the value's tags. Either way the bytes are those of valueAttribute() for the
// same key and value. (A byte-at-a-time JavaScript copy loop measured ~2.5 times slower than TypedArray#set here.)
const keyValueTag = (9 << 3) | wireLengthDelimited;
const keyTag = (1 << 3) | wireLengthDelimited;
const valueTag = (2 << 3) | wireLengthDelimited;
const stringValueTag = (1 << 3) | wireLengthDelimited;
/** Distinct values remembered per attribute key; the builder's repeating values are a handful per key. */
export const maxRememberedValues = 64;

/** An attribute name with its KeyValue bytes up to the value, encoded once (the span builder's keys are constants). */
export interface AttributeKey {
  readonly name: string;
  /** KeyValue tag, one length byte (written per attribute), the key field, the value's tag. */
  readonly prefix: Uint8Array;
  /** Whole KeyValue fields by value (bounded), or undefined for a key whose values do not repeat (ids). */
  readonly strings: Map<string, Uint8Array> | undefined;
  readonly numbers: Map<number, Uint8Array> | undefined;
  /** Frozen values (the builder's one-element finish-reason lists) by identity. */
  readonly frozen: Map<unknown, Uint8Array> | undefined;
}

/** `repeats: false` for a key whose every value is new (a request id): nothing is remembered for it. */
export function attributeKey(name: string, options: { repeats?: boolean } = {}): AttributeKey {
  const writer = new ProtobufWriter(8 + 3 * name.length);
  const buffer = writer.buffer;
  buffer[0] = keyValueTag;
  buffer[1] = 0;
  buffer[2] = keyTag;
  writer.pos = writeStringAt(buffer, 3, name);
  buffer[writer.pos++] = valueTag;
  const repeats = options.repeats ?? true;
  return {
    name,
    prefix: Uint8Array.from(buffer.subarray(0, writer.pos)),
    strings: repeats ? new Map() : undefined,
    numbers: repeats ? new Map() : undefined,
    frozen: repeats ? new Map() : undefined,
  };
}

/**
 * Copies an attribute's KeyValue prefix (tag, reserved length, key, value tag) and reserves the value's length byte,
 * with room for `valueBytes` more; returns where the pair's length byte is (the value's is at writer.pos − 1).
 */
function keyValuePrefix(writer: ProtobufWriter, key: AttributeKey, valueBytes: number): number {
  const prefix = key.prefix;
  const size = prefix.length;
  writer.ensure(size + 8 + valueBytes);
  const start = writer.pos;
  writer.buffer.set(prefix, start);
  writer.pos = start + size + 1; // the value's length byte
  return start + 1;
}

function writeStringAttribute(writer: ProtobufWriter, key: AttributeKey, value: string): void {
  const pair = keyValuePrefix(writer, key, 3 * value.length + 6);
  const any = writer.pos - 1;
  writer.buffer[writer.pos] = stringValueTag;
  writer.pos = writeStringAt(writer.buffer, writer.pos + 1, value);
  writer.finishLength(any);
  writer.finishLength(pair);
}

function writeNumberAttribute(writer: ProtobufWriter, key: AttributeKey, value: number): void {
  const pair = keyValuePrefix(writer, key, 16);
  const any = writer.pos - 1;
  writeNumber(writer, value);
  writer.finishLength(any);
  writer.finishLength(pair);
}

/** The field as its own bytes, to remember. */
function encodedField<Value>(key: AttributeKey, value: Value, write: (writer: ProtobufWriter, key: AttributeKey, value: Value) => void): Uint8Array {
  const writer = new ProtobufWriter(64);
  write(writer, key, value);
  return Uint8Array.from(writer.buffer.subarray(0, writer.pos));
}

/** The remembered field for `value` (encoded and remembered first while there is room), else written directly. */
function writeRemembered<Value>(
  writer: ProtobufWriter,
  key: AttributeKey,
  remembered: Map<Value, Uint8Array> | undefined,
  value: Value,
  write: (writer: ProtobufWriter, key: AttributeKey, value: Value) => void,
): void {
  if (remembered !== undefined) {
    let field = remembered.get(value);
    if (field === undefined && remembered.size < maxRememberedValues) {
      field = encodedField(key, value, write);
      remembered.set(value, field);
    }
    if (field !== undefined) {
      writer.raw(field);
      return;
    }
  }
  write(writer, key, value);
}

export function stringAttribute(writer: ProtobufWriter, key: AttributeKey, value: string): void {
  writeRemembered(writer, key, key.strings, value, writeStringAttribute);
}

export function numberAttribute(writer: ProtobufWriter, key: AttributeKey, value: number): void {
  writeRemembered(writer, key, key.numbers, value, writeNumberAttribute);
}

function writeValueAttribute(writer: ProtobufWriter, key: AttributeKey, value: unknown): void {
  writer.tag(9, wireLengthDelimited);
  const pair = writer.startLength();
  writeKeyValue(writer, key.name, value);
  writer.finishLength(pair);
}

export function valueAttribute(writer: ProtobufWriter, key: AttributeKey, value: unknown): void {
  // Only a frozen object can be remembered by identity: its contents cannot change after it was encoded.
  const frozen = typeof value === 'object' && value !== null && Object.isFrozen(value);
  writeRemembered(writer, key, frozen ? key.frozen : undefined, value, writeValueAttribute);
}

/** Dropped counts (always 0: the builder sets few attributes, no events, no links), status and flags. */
export function endSpan(writer: ProtobufWriter, start: number, statusCode: number, traceFlags: number, parentIsRemote: boolean | undefined): void {
  writer.tag(10, wireVarint);
  writer.varint(0);
  writer.tag(12, wireVarint);
  writer.varint(0);
  writer.tag(14, wireVarint);
  writer.varint(0);
  writer.tag(15, wireLengthDelimited);
  writer.varint(2);
  writer.tag(3, wireVarint);
  writer.varint(statusCode);
  writer.tag(16, wireFixed32);
  writer.fixed32((traceFlags & 0xff) | hasIsRemote | (parentIsRemote ? isRemoteFlag : 0));
  writer.finishLength(start);
}
