// Test helper: a small protobuf reader that decodes an OTLP ExportTraceServiceRequest into plain objects (only the
// fields the gateway writes), independent of the encoder under test.

export interface DecodedSpan {
  traceId: string;
  spanId: string;
  traceState: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startNanos: bigint;
  endNanos: bigint;
  attributes: Record<string, unknown>;
  statusCode: number;
  flags: number;
}

export interface DecodedRequest {
  resource: Record<string, unknown>;
  scope: { name: string; version: string };
  spans: DecodedSpan[];
}

type Field = { field: number; wire: number; value: bigint | Uint8Array };

function* fields(bytes: Uint8Array): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = bytes[pos++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { field, wire, value: varint() };
    else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      const slice = bytes.subarray(pos, pos + size);
      pos += size;
      yield { field, wire, value: slice };
    } else if (wire === 2) {
      const length = Number(varint());
      const slice = bytes.subarray(pos, pos + length);
      if (slice.length !== length) throw new Error('truncated field');
      pos += length;
      yield { field, wire, value: slice };
    } else throw new Error(`unexpected wire type ${wire}`);
  }
}

const text = (value: bigint | Uint8Array) => Buffer.from(value as Uint8Array).toString('utf8');
const hex = (value: bigint | Uint8Array) => Buffer.from(value as Uint8Array).toString('hex');
const fixed64 = (value: bigint | Uint8Array) => Buffer.from(value as Uint8Array).readBigUInt64LE(0);

function anyValue(bytes: Uint8Array): unknown {
  for (const { field, value } of fields(bytes)) {
    if (field === 1) return text(value);
    if (field === 2) return value === 1n;
    if (field === 3) return Number(BigInt.asIntN(64, value as bigint));
    if (field === 4) return Buffer.from(value as Uint8Array).readDoubleLE(0);
    if (field === 5) return [...fields(value as Uint8Array)].map((item) => anyValue(item.value as Uint8Array));
  }
  return undefined;
}

function keyValue(bytes: Uint8Array): [string, unknown] {
  let key = '';
  let value: unknown;
  for (const { field, value: raw } of fields(bytes)) {
    if (field === 1) key = text(raw);
    if (field === 2) value = anyValue(raw as Uint8Array);
  }
  return [key, value];
}

function span(bytes: Uint8Array): DecodedSpan {
  const decoded: DecodedSpan = { traceId: '', spanId: '', traceState: '', parentSpanId: '', name: '', kind: 0, startNanos: 0n, endNanos: 0n, attributes: {}, statusCode: 0, flags: 0 };
  for (const { field, value } of fields(bytes)) {
    if (field === 1) decoded.traceId = hex(value);
    else if (field === 2) decoded.spanId = hex(value);
    else if (field === 3) decoded.traceState = text(value);
    else if (field === 4) decoded.parentSpanId = hex(value);
    else if (field === 5) decoded.name = text(value);
    else if (field === 6) decoded.kind = Number(value);
    else if (field === 7) decoded.startNanos = fixed64(value);
    else if (field === 8) decoded.endNanos = fixed64(value);
    else if (field === 9) {
      const [key, attribute] = keyValue(value as Uint8Array);
      decoded.attributes[key] = attribute;
    } else if (field === 15) {
      for (const status of fields(value as Uint8Array)) if (status.field === 3) decoded.statusCode = Number(status.value);
    } else if (field === 16) decoded.flags = Buffer.from(value as Uint8Array).readUInt32LE(0);
  }
  return decoded;
}

export function decodeTraceRequest(bytes: Uint8Array): DecodedRequest {
  const request: DecodedRequest = { resource: {}, scope: { name: '', version: '' }, spans: [] };
  for (const resourceSpans of fields(bytes)) {
    if (resourceSpans.field !== 1) continue;
    for (const part of fields(resourceSpans.value as Uint8Array)) {
      if (part.field === 1) {
        for (const attribute of fields(part.value as Uint8Array)) {
          if (attribute.field !== 1) continue;
          const [key, value] = keyValue(attribute.value as Uint8Array);
          request.resource[key] = value;
        }
      } else if (part.field === 2) {
        for (const scopeSpans of fields(part.value as Uint8Array)) {
          if (scopeSpans.field === 1) {
            for (const scope of fields(scopeSpans.value as Uint8Array)) {
              if (scope.field === 1) request.scope.name = text(scope.value);
              if (scope.field === 2) request.scope.version = text(scope.value);
            }
          } else if (scopeSpans.field === 2) request.spans.push(span(scopeSpans.value as Uint8Array));
        }
      }
    }
  }
  return request;
}
