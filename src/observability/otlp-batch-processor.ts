// The gateway's span processor for OTLP/HTTP protobuf (the default exporter): each span is encoded into the open
// batch's buffer as it ends (otlp-trace-encoding.ts), and full or due batches are POSTed by OtlpHttpSender, one at a
// time, off the request path. Replaces the SDK's BatchSpanProcessor + OTLPTraceExporter there, which kept a
// ReadableSpan per span until the batch was serialised (two passes over every span) behind several promises.
// Bounded like OTEL_BSP_MAX_QUEUE_SIZE: spans beyond it are dropped and counted, never queued without limit.
import type { AttributeValue, SpanContext, SpanKind } from '@opentelemetry/api';
import type { OtlpExportSettings } from './otlp-exporter-settings.js';
import { ProtobufWriter } from './otlp-protobuf-writer.js';
import { beginSpan, encodeRequest, endSpan, numberAttribute, requestHeadroom, stringAttribute, valueAttribute, type AttributeKey, type RequestFrame } from './otlp-trace-encoding.js';
import { traceExportTotals } from './trace-export-totals.js';
import type { SpanSink } from './tracing-span-sink.js';

/** What is delivered or lost, for the log line and for tests. */
export interface OtlpExportCounts {
  exportedSpans: number;
  /** Spans dropped because OTEL_BSP_MAX_QUEUE_SIZE spans were already waiting. */
  droppedSpans: number;
  /** Spans in batches the collector did not accept in time (after retries). */
  failedSpans: number;
  failedExports: number;
}

export interface BatchSender {
  export(request: Buffer): Promise<void>;
  close(): void;
}

export interface OtlpBatchProcessorOptions {
  settings: Pick<OtlpExportSettings, 'scheduleDelayMs' | 'maxExportBatchSize' | 'maxQueueSize'>;
  frame: RequestFrame;
  sender: BatchSender;
  /** Told at most once per `reportEveryMs` (and at shutdown) that spans were dropped or not delivered. */
  logger?: { warn(object: object, message: string): void };
  reportEveryMs?: number;
}

const batchBufferSize = 256 * 1024;
const statusUnset = 0;
const statusError = 2;

export class OtlpBatchProcessor implements SpanSink {
  private writer: ProtobufWriter;
  /** Spans in the open batch. */
  private batched = 0;
  /** Sealed requests waiting for the sender, with their span counts. */
  private readonly waiting: Array<{ request: Buffer; spans: number }> = [];
  /** Spans sealed and not yet delivered or given up on (the batch being sent included). */
  private inFlight = 0;
  private sending: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The span being written is being dropped: its attribute calls do nothing. */
  private skipping = false;
  private spanStart = 0;
  private traceFlags = 0;
  private parentIsRemote: boolean | undefined;
  private failed = false;
  private readonly counts: OtlpExportCounts = { exportedSpans: 0, droppedSpans: 0, failedSpans: 0, failedExports: 0 };
  private reported = { droppedSpans: 0, failedSpans: 0 };
  private lastReportAt = 0;
  private lastFailure = '';

  constructor(private readonly options: OtlpBatchProcessorOptions) {
    this.writer = this.newBatch();
  }

  private newBatch(): ProtobufWriter {
    const writer = new ProtobufWriter(batchBufferSize);
    writer.pos = requestHeadroom(this.options.frame);
    return writer;
  }

  stats(): OtlpExportCounts {
    return { ...this.counts };
  }

  begin(name: string, kind: SpanKind, context: SpanContext, parent: SpanContext | undefined, startMs: number, endMs: number, failed: boolean): void {
    if (this.closed || this.batched + this.inFlight >= this.options.settings.maxQueueSize) {
      this.skipping = true;
      if (!this.closed) {
        this.counts.droppedSpans++;
        traceExportTotals.droppedSpans++;
        this.report();
      }
      return;
    }
    this.skipping = false;
    this.failed = failed;
    this.traceFlags = context.traceFlags;
    this.parentIsRemote = parent?.isRemote;
    this.spanStart = beginSpan(this.writer, name, kind, context, context.traceState?.serialize(), parent, startMs, endMs);
  }

  string(key: AttributeKey, value: string): void {
    if (!this.skipping) stringAttribute(this.writer, key, value);
  }

  number(key: AttributeKey, value: number): void {
    if (!this.skipping) numberAttribute(this.writer, key, value);
  }

  value(key: AttributeKey, value: AttributeValue): void {
    if (!this.skipping) valueAttribute(this.writer, key, value);
  }

  end(): void {
    if (this.skipping) return;
    endSpan(this.writer, this.spanStart, this.failed ? statusError : statusUnset, this.traceFlags, this.parentIsRemote);
    this.batched++;
    if (this.batched >= this.options.settings.maxExportBatchSize) this.seal();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.seal(), this.options.settings.scheduleDelayMs);
      this.timer.unref();
    }
  }

  /** Sends every span ended so far and resolves once the collector has them (or they were given up on). */
  async forceFlush(): Promise<void> {
    this.seal();
    while (this.sending) await this.sending;
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    await this.forceFlush();
    this.closed = true;
    this.options.sender.close();
    this.report(true);
  }

  /** Turns the open batch into a request and hands it to the sender. */
  private seal(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.batched === 0) return;
    const batch = this.writer;
    let request = encodeRequest(this.options.frame, batch);
    // A full batch's request is its buffer itself (headers written into the room kept before the spans) and a new
    // buffer replaces it; a small one (a quiet period) is copied out so a waiting request never holds a large buffer.
    if (request.length * 4 < batch.buffer.length) {
      request = Buffer.from(request);
      batch.pos = requestHeadroom(this.options.frame);
    } else {
      this.writer = this.newBatch();
    }
    this.waiting.push({ request, spans: this.batched });
    this.inFlight += this.batched;
    this.batched = 0;
    this.sending ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      for (let next = this.waiting.shift(); next; next = this.waiting.shift()) {
        try {
          await this.options.sender.export(next.request);
          this.counts.exportedSpans += next.spans;
          traceExportTotals.exportedSpans += next.spans;
        } catch (failure) {
          this.counts.failedSpans += next.spans;
          traceExportTotals.failedSpans += next.spans;
          this.counts.failedExports++;
          this.lastFailure = failure instanceof Error ? failure.message : String(failure);
          this.report();
        } finally {
          this.inFlight -= next.spans;
        }
      }
    } finally {
      this.sending = undefined;
    }
  }

  /** One warning line per interval summarising what was lost since the last one; never one per span. */
  private report(force = false): void {
    const dropped = this.counts.droppedSpans - this.reported.droppedSpans;
    const failed = this.counts.failedSpans - this.reported.failedSpans;
    if (dropped === 0 && failed === 0) return;
    const now = Date.now();
    if (!force && now - this.lastReportAt < (this.options.reportEveryMs ?? 10_000)) return;
    this.lastReportAt = now;
    this.reported = { droppedSpans: this.counts.droppedSpans, failedSpans: this.counts.failedSpans };
    this.options.logger?.warn(
      { dropped_spans: dropped, failed_spans: failed, ...(failed > 0 ? { reason: this.lastFailure } : {}), queue_size: this.options.settings.maxQueueSize },
      'traces not exported',
    );
  }
}
