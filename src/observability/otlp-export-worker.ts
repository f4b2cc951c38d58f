// Worker-thread entry of OtlpExportThread: sends each batch it is given with OtlpHttpSender (timeouts, retries,
// gzip, no redirects), one at a time as the processor hands them over, and answers with the outcome.
import { parentPort, workerData } from 'node:worker_threads';
import { answerCalls } from '../core/module-worker.js';
import type { ExportMessage, ExportWorkerData } from './otlp-export-thread.js';
import { OtlpHttpSender } from './otlp-http-sender.js';

const { settings } = workerData as ExportWorkerData;
const sender = new OtlpHttpSender(Object.assign({}, settings, { url: new URL(settings.url) }));

if (parentPort) answerCalls<ExportMessage>(parentPort, (message) => sender.export(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength)));
