// Counters, gauges and histograms for the per-request hot path, registered on a prom-client Registry and exposed in
// the same text format. prom-client hashes and validates a label object on every call (measured ~1 µs each, ~8 calls
// per request); here a caller looks a series up once (`cell(...)`, cached by its label values) and keeps it, so an
// update is a field increment, and the work of formatting happens at scrape time instead of per request.
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

/** The shape prom-client's Registry reads from a metric (`get()`), see its registry.js. */
interface MetricValue {
  labels: Labels;
  value: number;
  metricName?: string;
}

interface FamilyOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
  registers: Registry[];
}

abstract class Family<Cell> {
  readonly name: string;
  readonly help: string;
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  readonly aggregator = 'sum';
  protected readonly labelNames: readonly string[];
  private readonly cells = new Map<string, { labels: Labels; cell: Cell }>();

  constructor(options: FamilyOptions) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  /** The series for these label values (in `labelNames` order), created on first use. Keep it: lookups cost a join. */
  cell(...values: string[]): Cell {
    const key = values.length === 1 ? values[0]! : values.join('\u0000');
    let found = this.cells.get(key);
    if (!found) {
      if (values.length !== this.labelNames.length) throw new Error(`${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`);
      const labels: Labels = {};
      this.labelNames.forEach((name, index) => (labels[name] = values[index]!));
      found = { labels, cell: this.newCell() };
      this.cells.set(key, found);
    }
    return found.cell;
  }

  protected abstract newCell(): Cell;
  protected abstract valuesOf(labels: Labels, cell: Cell, into: MetricValue[]): void;

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
    const values: MetricValue[] = [];
    for (const { labels, cell } of this.cells.values()) this.valuesOf(labels, cell, values);
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    this.cells.clear();
  }
}

/** A counter or gauge series: one number (a counter's only grows). */
export interface ValueCell {
  value: number;
}
export type CounterCell = ValueCell;
export type GaugeCell = ValueCell;

abstract class ValueFamily extends Family<ValueCell> {
  protected newCell(): ValueCell {
    return { value: 0 };
  }
  protected valuesOf(labels: Labels, cell: ValueCell, into: MetricValue[]): void {
    into.push({ labels, value: cell.value });
  }
}

export class CounterFamily extends ValueFamily {
  readonly type = 'counter';
}

export class GaugeFamily extends ValueFamily {
  readonly type = 'gauge';
}

export class HistogramCell {
  /** Observations per bucket (not cumulative; the last one is +Inf). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && value > bounds[index]!) index++;
    this.counts[index]!++;
    this.sum += value;
    this.count++;
  }
}

export class HistogramFamily extends Family<HistogramCell> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];
  private readonly bucketName: string;
  private readonly sumName: string;
  private readonly countName: string;

  constructor(options: FamilyOptions & { buckets: readonly number[] }) {
    super(options);
    this.bounds = [...options.buckets].sort((a, b) => a - b);
    this.bucketName = `${options.name}_bucket`;
    this.sumName = `${options.name}_sum`;
    this.countName = `${options.name}_count`;
  }

  protected newCell(): HistogramCell {
    return new HistogramCell(this.bounds);
  }

  protected valuesOf(labels: Labels, cell: HistogramCell, into: MetricValue[]): void {
    let cumulative = 0;
    for (let index = 0; index <= this.bounds.length; index++) {
      cumulative += cell.counts[index]!;
      const le = index < this.bounds.length ? String(this.bounds[index]) : '+Inf';
      into.push({ labels: { le, ...labels }, value: cumulative, metricName: this.bucketName });
    }
    into.push({ labels, value: cell.sum, metricName: this.sumName });
    into.push({ labels, value: cell.count, metricName: this.countName });
  }
}
