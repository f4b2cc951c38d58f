// Sends the OTLP batches from a worker thread of their own (otlp-export-worker.ts runs OtlpHttpSender there).
// Why a thread: on the event loop the export's HTTP client work (undici with a Buffer body, another origin, other
// headers, a response to dump) runs through the same undici and socket code as the upstream calls and shares their
// optimised code and type feedback, and the compiler kept recompiling that code: at 10 % sampling 542–562k
// instructions per request against 474k at 0 %, and 496k with the export made a no-op (bench/RESULTS.md,
// "Observability overhead, seventh pass"). The thread also takes the export's sockets, retries and
// gzip off the event loop. The gateway's thread only copies each sealed batch into a buffer it hands over.
import { WorkerCalls } from '../core/module-worker.js';
import type { BatchSender } from './otlp-batch-processor.js';
import type { OtlpExportSettings } from './otlp-exporter-settings.js';

/** What the worker is started with: the settings, the endpoint as text (a URL does not cross threads). */
export interface ExportWorkerData {
  settings: Omit<OtlpExportSettings, 'url'> & { url: string };
}

/** One batch to send: an ExportTraceServiceRequest's bytes, owned by the worker once posted. */
export interface ExportMessage {
  id: number;
  bytes: Uint8Array;
}

export class OtlpExportThread implements BatchSender {
  private readonly calls: WorkerCalls;

  constructor(settings: OtlpExportSettings, onLost?: (error: Error) => void) {
    const workerData: ExportWorkerData = { settings: Object.assign({}, settings, { url: settings.url.href }) };
    this.calls = new WorkerCalls({ callerUrl: import.meta.url, module: 'otlp-export-worker', name: 'breakwater-otlp-export', workerData, ...(onLost ? { onLost } : {}) });
  }

  /** True while the worker thread is running (it starts with the first batch). */
  get running(): boolean {
    return this.calls.running;
  }

  async export(request: Buffer): Promise<void> {
    // A copy moved to the worker: the processor reuses its batch buffer (and a transfer would detach Node's pool).
    const bytes = new Uint8Array(request.length);
    bytes.set(request);
    await this.calls.call({ bytes }, [bytes.buffer]);
  }

  /** Called after the processor's last batch was answered: ends the thread. */
  close(): void {
    void this.calls.close();
  }
}
