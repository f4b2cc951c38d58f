// POSTs one encoded OTLP batch to the collector: protobuf body (gzipped on the thread pool when asked), the
// configured headers, a per-request timeout, retries on 429/502/503/504 with bounded exponential backoff (honouring
// Retry-After) inside the batch's export deadline, and redirects never followed.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { gzip } from 'node:zlib';
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
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly settings: OtlpExportSettings,
    private readonly clock: Clock = systemClock,
  ) {
    const secure = settings.url.protocol === 'https:';
    this.agent = secure ? new HttpsAgent({ keepAlive: true, maxSockets: 2 }) : new HttpAgent({ keepAlive: true, maxSockets: 2 });
    this.send = secure ? httpsRequest : httpRequest;
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
    this.agent.destroy();
  }

  private post(body: Buffer, timeoutMs: number): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const outgoing = this.send(this.settings.url, {
        method: 'POST',
        agent: this.agent,
        headers: { ...this.headers, 'content-length': String(body.length) },
      });
      const timer = setTimeout(() => outgoing.destroy(new OtlpExportError(`no answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      outgoing.on('close', () => clearTimeout(timer));
      outgoing.on('response', (response: IncomingMessage) => {
        // The answer (an ExportTraceServiceResponse, maybe a partial success) is read and discarded.
        response.resume();
        const retryAfter = response.headers['retry-after'];
        response.on('end', () => resolve({ status: response.statusCode ?? 0, ...(typeof retryAfter === 'string' ? { retryAfter } : {}) }));
        response.on('error', reject);
      });
      outgoing.on('error', (failure) => reject(failure instanceof OtlpExportError ? failure : new OtlpExportError(failure.message)));
      outgoing.end(body);
    });
  }
}
