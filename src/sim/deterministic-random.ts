// Hashing and a seeded random sequence, so the same request always yields the same simulated output.

const fnvOffsetBasis = 0x811c9dc5;
const fnvPrime = 0x01000193;

/** 32-bit FNV-1a over UTF-16 code units: cheap, well spread, and stable across runs and platforms. */
export function fnv1a32(text: string, basis: number = fnvOffsetBasis): number {
  let hash = basis >>> 0;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, fnvPrime);
  }
  return hash >>> 0;
}

/** mulberry32: a tiny seeded generator of unsigned 32-bit integers; quality is ample for picking words. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return (mixed ^ (mixed >>> 14)) >>> 0;
  };
}

/** Eight lower-case hex digits, for ids derived from a hash. */
export function toHex32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}
