// A minimal protobuf writer for the OTLP trace encoder: varints, tags, strings, hex ids, fixed64 times and
// length-delimited fields into one growable buffer that is reused from batch to batch.
// Lengths are written the way @opentelemetry/otlp-transformer's ProtobufWriter writes them (one byte reserved, the
// content shifted when the length needs more), so both produce the same bytes for the same message.

export const wireVarint = 0;
export const wireFixed64 = 1;
export const wireLengthDelimited = 2;
export const wireFixed32 = 5;

function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

// Hex digit → value (ids are lowercase hex; uppercase is accepted as the SDK accepts it).
const hexValues = new Uint8Array(128);
for (let digit = 0; digit < 10; digit++) hexValues[48 + digit] = digit;
for (let digit = 0; digit < 6; digit++) hexValues[97 + digit] = hexValues[65 + digit] = 10 + digit;

export class ProtobufWriter {
  buffer: Buffer;
  pos = 0;

  constructor(initialSize = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialSize);
  }

  reset(): void {
    this.pos = 0;
  }

  ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
  }

  /** A tag below 16 fields (one byte) or up to 2047 (two bytes). */
  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** A non-negative integer up to 2^53 (negative int64 values are not used by the encoder). */
  varint(value: number): void {
    this.ensure(10);
    const buffer = this.buffer;
    if (value <= 0xffffffff) {
      let remaining = value >>> 0;
      while (remaining > 0x7f) {
        buffer[this.pos++] = (remaining & 0x7f) | 0x80;
        remaining >>>= 7;
      }
      buffer[this.pos++] = remaining;
      return;
    }
    this.varint64(value >>> 0, (value / 0x100000000) >>> 0);
  }

  /** A 64-bit varint from its two 32-bit halves (the caller has ensured 10 bytes). */
  private varint64(low: number, high: number): void {
    const buffer = this.buffer;
    while (high > 0 || low > 0x7f) {
      buffer[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buffer[this.pos++] = low & 0x7f;
  }

  /** A signed integer as protobuf int64 (two's complement, ten bytes when negative). */
  int64(value: number): void {
    if (value >= 0) {
      this.varint(value);
      return;
    }
    this.ensure(10);
    const magnitude = -value;
    let low = magnitude >>> 0;
    let high = (magnitude / 0x100000000) >>> 0;
    low = ~low >>> 0;
    high = ~high >>> 0;
    low = (low + 1) >>> 0;
    if (low === 0) high = (high + 1) >>> 0;
    this.varint64(low, high);
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.buffer.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  fixed64(low: number, high: number): void {
    this.ensure(8);
    const buffer = this.buffer;
    let pos = this.pos;
    buffer[pos++] = low & 0xff;
    buffer[pos++] = (low >>> 8) & 0xff;
    buffer[pos++] = (low >>> 16) & 0xff;
    buffer[pos++] = (low >>> 24) & 0xff;
    buffer[pos++] = high & 0xff;
    buffer[pos++] = (high >>> 8) & 0xff;
    buffer[pos++] = (high >>> 16) & 0xff;
    buffer[pos++] = (high >>> 24) & 0xff;
    this.pos = pos;
  }

  double(value: number): void {
    this.ensure(8);
    this.pos = this.buffer.writeDoubleLE(value, this.pos);
  }

  /**
   * Epoch milliseconds as fixed64 nanoseconds, rounded exactly as the SDK's finished spans are (whole seconds plus
   * rounded nanoseconds, then seconds × 1e9 + nanoseconds split so every product stays an exact double).
   */
  epochNanos(epochMs: number): void {
    const seconds = Math.floor(epochMs / 1000);
    const nanos = Math.min(999_999_999, Math.round((epochMs - seconds * 1000) * 1e6));
    const lower = (seconds & 0xffff) * 1_000_000_000;
    const upper = ((seconds / 0x10000) >>> 0) * 1_000_000_000;
    const lowWithCarry = (lower >>> 0) + (((upper & 0xffff) * 0x10000) >>> 0) + nanos;
    const carry = Math.floor(lowWithCarry / 0x100000000);
    this.fixed64(lowWithCarry >>> 0, (Math.floor(lower / 0x100000000) + ((upper / 0x10000) >>> 0) + carry) >>> 0);
  }

  /** A length-prefixed UTF-8 string; ASCII (nearly every attribute) is copied in a loop, the rest by Buffer.write. */
  string(value: string): void {
    this.ensure(value.length * 3 + 5);
    this.pos = writeStringAt(this.buffer, this.pos, value);
  }

  /** Lowercase or uppercase hex (a trace or span id) as length-prefixed bytes. */
  hexBytes(hex: string): void {
    const length = hex.length >>> 1;
    this.ensure(length + 5);
    const buffer = this.buffer;
    buffer[this.pos++] = length; // ids are 8 or 16 bytes: a one-byte length
    for (let index = 0; index < hex.length; index += 2) {
      buffer[this.pos++] = ((hexValues[hex.charCodeAt(index) & 0x7f] as number) << 4) | (hexValues[hex.charCodeAt(index + 1) & 0x7f] as number);
    }
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Reserves one byte for a length; returns where it is, for finishLength(). */
  startLength(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Writes the length of everything since startLength(), moving the content if the length needs more than a byte. */
  finishLength(at: number): void {
    const length = this.pos - at - 1;
    const size = varintSize(length);
    if (size > 1) {
      this.ensure(size - 1);
      this.buffer.copyWithin(at + size, at + 1, this.pos);
      this.pos += size - 1;
    }
    this.lengthAt(at, length);
  }

  private lengthAt(at: number, length: number): void {
    const buffer = this.buffer;
    let remaining = length;
    while (remaining > 0x7f) {
      buffer[at++] = (remaining & 0x7f) | 0x80;
      remaining >>>= 7;
    }
    buffer[at] = remaining;
  }
}

/**
 * Writes a length-prefixed UTF-8 string at `pos` (the caller has ensured length × 3 + 5 bytes) and returns the
 * position after it.
 */
export function writeStringAt(buffer: Buffer, pos: number, value: string): number {
  const length = value.length;
  const start = pos;
  let at = pos + (length < 0x80 ? 1 : varintSize(length));
  let index = 0;
  for (; index < length; index++) {
    const code = value.charCodeAt(index);
    if (code >= 0x80) break;
    buffer[at++] = code;
  }
  let bytes = length;
  if (index < length) {
    bytes = Buffer.byteLength(value, 'utf8');
    at = start + varintSize(bytes);
    at += buffer.write(value, at, bytes, 'utf8');
  }
  let remaining = bytes;
  pos = start;
  while (remaining > 0x7f) {
    buffer[pos++] = (remaining & 0x7f) | 0x80;
    remaining >>>= 7;
  }
  buffer[pos] = remaining;
  return at;
}

export { varintSize };
