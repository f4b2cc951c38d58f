// Trace and span ids for the span builder: hex from a pool of random bytes refilled in bulk, so an id costs one
// slice of a buffer rather than a random call per byte (the SDK's generator) on every request.
import { randomFillSync } from 'node:crypto';

const poolSize = 4096;
const pool = Buffer.allocUnsafe(poolSize);
let offset = poolSize;

function randomHex(bytes: number): string {
  for (;;) {
    if (offset + bytes > poolSize) {
      randomFillSync(pool);
      offset = 0;
    }
    const start = offset;
    offset += bytes;
    // W3C: an id of all zeros is invalid. Practically never drawn, but cheap to refuse.
    for (let index = start; index < offset; index++) if (pool[index] !== 0) return pool.toString('hex', start, offset);
  }
}

/** 16 random bytes as 32 lowercase hex digits, never all zero. */
export function newTraceId(): string {
  return randomHex(16);
}

/** 8 random bytes as 16 lowercase hex digits, never all zero. */
export function newSpanId(): string {
  return randomHex(8);
}
