// Prometheus metrics for the cache, on the gateway's registry: lookups by outcome, guard rejections by reason,
// bytes stored, and (read at scrape time) L1 bytes, entries and evictions and the semantic index size.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CacheEvent } from './cache-events.js';

export interface CacheGauges {
  memoryBytes(): number;
  memoryEntries(): number;
  evictions(): number;
  semanticEntries(): number;
}

export class CacheMetrics {
  private readonly onEvent = (message: unknown) => {
    const event = message as CacheEvent;
    if (event.gatewayId !== this.gatewayId) return;
    if (event.type === 'lookup') this.lookups.inc({ outcome: event.outcome });
    else if (event.type === 'guard-rejection') this.rejections.inc({ reason: event.reason });
    else if (event.type === 'store') {
      this.stores.inc();
      this.storedBytes.inc(event.bytes);
    } else if (event.type === 'store-skipped') this.skipped.inc({ reason: event.reason });
    else this.backendErrors.inc({ operation: event.operation });
  };
  private readonly lookups: Counter<'outcome'>;
  private readonly rejections: Counter<'reason'>;
  private readonly stores: Counter;
  private readonly storedBytes: Counter;
  private readonly skipped: Counter<'reason'>;
  private readonly backendErrors: Counter<'operation'>;

  constructor(
    registry: Registry,
    private readonly gatewayId: number,
    gauges: CacheGauges,
  ) {
    const registers = [registry];
    this.lookups = new Counter({ name: 'breakwater_cache_lookups_total', help: 'Chat requests by cache outcome: hit, semantic-hit, miss, bypass', labelNames: ['outcome'], registers });
    this.rejections = new Counter({ name: 'breakwater_cache_guard_rejections_total', help: 'Semantic neighbours the false-hit guard refused, by reason', labelNames: ['reason'], registers });
    this.stores = new Counter({ name: 'breakwater_cache_stores_total', help: 'Completions stored in the cache', registers });
    this.storedBytes = new Counter({ name: 'breakwater_cache_stored_bytes_total', help: 'Bytes of completions stored in the cache', registers });
    this.skipped = new Counter({ name: 'breakwater_cache_store_skipped_total', help: 'Completions not stored: too large, incomplete stream, or store error', labelNames: ['reason'], registers });
    this.backendErrors = new Counter({ name: 'breakwater_cache_backend_errors_total', help: 'Failed L2 operations (the request went on without the cache)', labelNames: ['operation'], registers });
    new Gauge({ name: 'breakwater_cache_memory_bytes', help: 'Bytes held by the in-process L1 cache', registers, collect() { this.set(gauges.memoryBytes()); } });
    new Gauge({ name: 'breakwater_cache_memory_entries', help: 'Entries held by the in-process L1 cache', registers, collect() { this.set(gauges.memoryEntries()); } });
    let evictionsCounted = 0;
    new Counter({
      name: 'breakwater_cache_evictions_total',
      help: 'Entries evicted for space from L1 and the semantic index',
      registers,
      collect() {
        const now = gauges.evictions();
        if (now > evictionsCounted) this.inc(now - evictionsCounted);
        evictionsCounted = now;
      },
    });
    new Gauge({ name: 'breakwater_cache_semantic_entries', help: 'Questions in the semantic index', registers, collect() { this.set(gauges.semanticEntries()); } });
    subscribe('breakwater:cache', this.onEvent);
  }

  close(): void {
    unsubscribe('breakwater:cache', this.onEvent);
  }
}
