// In-process nearest-neighbour index over unit vectors, partitioned by scope (tenant, model, conversation
// fingerprint, embedder). Exact search within a partition: see the README's cache section for why not HNSW.

export interface IndexedEntry {
  /** The exact-cache key whose stored answer this entry stands for. */
  key: string;
  partition: string;
  vector: Float32Array;
  /** The cached question as the guard needs it (kept in memory; bounded by max entries). */
  text: string;
  expiresAt: number;
}

export interface Neighbour {
  entry: IndexedEntry;
  similarity: number;
}

export class VectorIndex {
  private readonly partitions = new Map<string, Map<string, IndexedEntry>>();
  /** Every entry, oldest first (a Map keeps insertion order), for eviction. */
  private readonly entries = new Map<string, IndexedEntry>();
  evictions = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get capacity(): number {
    return this.maxEntries;
  }

  get size(): number {
    return this.entries.size;
  }

  add(entry: IndexedEntry): void {
    this.remove(entry.key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.remove(oldest.value);
      this.evictions++;
    }
    this.entries.set(entry.key, entry);
    let partition = this.partitions.get(entry.partition);
    if (!partition) this.partitions.set(entry.partition, (partition = new Map()));
    partition.set(entry.key, entry);
  }

  remove(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    const partition = this.partitions.get(entry.partition);
    partition?.delete(key);
    if (partition?.size === 0) this.partitions.delete(entry.partition);
    return true;
  }

  /** Removes the entries whose key passes `matches` (purges); returns how many. */
  removeWhere(matches: (key: string) => boolean): number {
    let removed = 0;
    for (const key of [...this.entries.keys()]) if (matches(key) && this.remove(key)) removed++;
    return removed;
  }

  /** The best `limit` live neighbours at or above `threshold`, best first. */
  search(partition: string, vector: Float32Array, threshold: number, limit: number): Neighbour[] {
    const candidates = this.partitions.get(partition);
    if (!candidates) return [];
    const now = this.now();
    const found: Neighbour[] = [];
    const nonZero = sparseIndexes(vector);
    for (const entry of candidates.values()) {
      if (entry.expiresAt <= now) {
        this.remove(entry.key);
        continue;
      }
      const similarity = nonZero ? sparseDot(vector, nonZero, entry.vector) : dot(vector, entry.vector);
      if (similarity >= threshold) found.push({ entry, similarity });
    }
    found.sort((one, other) => other.similarity - one.similarity);
    return found.slice(0, limit);
  }

  clear(): void {
    this.entries.clear();
    this.partitions.clear();
  }
}

function dot(one: Float32Array, other: Float32Array): number {
  if (one.length !== other.length) return -1;
  let sum = 0;
  // Indexes are in range by the length check; the casts keep `?? 0` branches out of the hottest loop.
  for (let index = 0; index < one.length; index++) sum += (one[index] as number) * (other[index] as number);
  return sum;
}

/**
 * The built-in embedder's vectors are sparse (a few dozen features hashed into 512 dimensions): the dot product then
 * only needs the query's non-zero dimensions, an order of magnitude fewer multiplications. Dense vectors get undefined.
 */
function sparseIndexes(vector: Float32Array): Uint16Array | undefined {
  if (vector.length > 65_536) return undefined;
  let count = 0;
  for (const value of vector) if (value !== 0) count++;
  if (count * 4 > vector.length) return undefined;
  const indexes = new Uint16Array(count);
  let position = 0;
  for (let index = 0; index < vector.length; index++) if (vector[index] !== 0) indexes[position++] = index;
  return indexes;
}

function sparseDot(query: Float32Array, nonZero: Uint16Array, other: Float32Array): number {
  if (query.length !== other.length) return -1;
  let sum = 0;
  for (const index of nonZero) sum += (query[index] as number) * (other[index] as number);
  return sum;
}
