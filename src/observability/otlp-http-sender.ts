// POSTs one encoded OTLP batch to the collector: protobuf body (gzipped on the thread pool when asked), the
// configured headers, a per-request timeout, retries on 429/502/503/504 with bounded exponential backoff (honouring
// Retry-After) inside the batch's export deadline, and redirects never followed.
// The default pipeline runs it on the export thread (otlp-export-thread.ts), never on the gateway's event loop, where
// its undici calls shared optimised code with the upstream calls (bench/RESULTS.md, seventh pass).
import { gzip } from 'node:zlib';
import { Client } from 'undici';
import { systemClock, type Clock } from '../reliability/clock.js';
import type { OtlpExportSettings } from './otlp-exporter-settings.js';

const retryableStatuses = new Set([429, 502, 503, 504]);
const maxAttempts = 5;
const initialBackoffMs = 1000;
const maxBackoffMs = 5000;
const backoffMultiplier = 1.5;

export class OtlpExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OtlpExportError';
  }
}

interface Answer {
  status: number;
  retryAfter?: string;
}

function gzipped(body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => gzip(body, (failure, result) => (failure ? reject(failure) : resolve(result))));
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date), if it says anything usable. */
function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export class OtlpHttpSender {
  private readonly client: Client;
  private readonly path: string;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly settings: OtlpExportSettings,
    private readonly clock: Clock = systemClock,
  ) {
    // One connection: batches are sent one at a time (otlp-batch-processor.ts), kept alive between them.
    this.client = new Client(settings.url.origin, { keepAliveTimeout: 30_000, connect: { timeout: settings.timeoutMs } });
    this.path = settings.url.pathname + settings.url.search;
    this.headers = {
      'user-agent': 'breakwater-otlp-exporter/0.1.0',
      ...settings.headers,
      'content-type': 'application/x-protobuf',
      ...(settings.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
    };
  }

  /** Sends one ExportTraceServiceRequest; rejects with the reason when it could not be delivered in time. */
  async export(request: Buffer): Promise<void> {
    const deadline = this.clock.now() + this.settings.exportTimeoutMs;
    const body = this.settings.compression === 'gzip' ? await gzipped(request) : request;
    let backoff = initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - this.clock.now();
      if (remaining <= 0) throw new OtlpExportError('export timeout');
      const answer = await this.post(body, Math.min(this.settings.timeoutMs, remaining));
      if (answer.status >= 200 && answer.status < 300) return;
      if (!retryableStatuses.has(answer.status) || attempt >= maxAttempts) throw new OtlpExportError(`collector answered ${answer.status}`);
      // Full jitter would make some waits ~0; the SDK's ±20 % keeps retries spread without hammering the collector.
      const wait = retryAfterMs(answer.retryAfter, Date.now()) ?? backoff * (0.8 + Math.random() * 0.4);
      if (this.clock.now() + wait >= deadline) throw new OtlpExportError(`collector answered ${answer.status}; no time left to retry`);
      await this.clock.sleep(wait);
      backoff = Math.min(maxBackoffMs, backoff * backoffMultiplier);
    }
  }

  close(): void {
    void this.client.destroy().catch(() => undefined);
  }

  private async post(body: Buffer, timeoutMs: number): Promise<Answer> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    timer.unref();
    try {
      // undici never follows a redirect unless asked: a 3xx is an answer like any other (and not retried).
      const response = await this.client.request({
        path: this.path,
        method: 'POST',
        headers: { ...this.headers, 'content-length': String(body.length) },
        body,
        signal: controller.signal,
      });
      // The answer (an ExportTraceServiceResponse, maybe a partial success) is read and discarded.
      await response.body.dump({ limit: 64 * 1024 });
      const retryAfter = response.headers['retry-after'];
      return { status: response.statusCode, ...(typeof retryAfter === 'string' ? { retryAfter } : {}) };
    } catch (failure) {
      if (controller.signal.aborted) throw new OtlpExportError(`no answer within ${timeoutMs} ms`);
      throw new OtlpExportError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      clearTimeout(timer);
    }
  }
}
