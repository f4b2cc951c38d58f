// Counts over a sliding time window, in ten buckets: what the breaker's failure rate and the retry budget read.
import type { Clock } from './clock.js';

const bucketCount = 10;

export class SlidingCounts {
  private readonly series: number[][];
  private readonly bucketMs: number;
  private bucketStart = 0;

  constructor(
    windowMs: number,
    seriesCount: number,
    private readonly clock: Clock,
  ) {
    this.bucketMs = Math.max(1, windowMs / bucketCount);
    this.series = Array.from({ length: seriesCount }, () => new Array<number>(bucketCount).fill(0));
  }

  add(series: number, amount = 1): void {
    this.rotate();
    const buckets = this.series[series];
    if (!buckets) return;
    const index = Math.floor(this.clock.now() / this.bucketMs) % bucketCount;
    buckets[index] = (buckets[index] ?? 0) + amount;
  }

  /** The total of one series over the window. */
  total(series: number): number {
    this.rotate();
    let sum = 0;
    for (const value of this.series[series] ?? []) sum += value;
    return sum;
  }

  reset(): void {
    for (const buckets of this.series) buckets.fill(0);
    this.bucketStart = Math.floor(this.clock.now() / this.bucketMs);
  }

  /** Clears the buckets that fell out of the window since the last call. */
  private rotate(): void {
    const current = Math.floor(this.clock.now() / this.bucketMs);
    const stale = Math.min(bucketCount, current - this.bucketStart);
    for (let step = 1; step <= stale; step++) {
      const index = (this.bucketStart + step) % bucketCount;
      for (const buckets of this.series) buckets[index] = 0;
    }
    this.bucketStart = current;
  }
}
