// Worker threads on modules that sit beside their caller's: started on first use, asked by request/answer messages.
// Run from the sources (tests, development) the module is the .ts, loaded through tsx by a bootstrap: a worker does
// not reliably inherit the parent's loader hooks.
import { Worker } from 'node:worker_threads';

/** What a worker module posts back for each message: the message's id and its outcome. */
export type WorkerReply = { id: number } & ({ ok: true; value: unknown } | { ok: false; message: string });

export interface ModuleWorkerOptions {
  /** The caller's `import.meta.url`; the module is looked up in its directory. */
  callerUrl: string;
  /** The worker module's file name, without its extension. */
  module: string;
  /** The thread's name (diagnostics, heap snapshots); also names it in errors. */
  name: string;
  /** Structured-cloned into the worker as `workerData`. */
  workerData?: unknown;
  /** A worker died while not closed (crash, out of memory): its waiting calls have failed; the next call starts another. */
  onLost?: (error: Error) => void;
}

function startModuleWorker(options: ModuleWorkerOptions): Worker {
  const fromSources = options.callerUrl.endsWith('.ts');
  const url = new URL(`./${options.module}.${fromSources ? 'ts' : 'js'}`, options.callerUrl);
  const threadOptions = { name: options.name, workerData: options.workerData };
  if (!fromSources) return new Worker(url, threadOptions);
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, { ...threadOptions, eval: true });
}

/**
 * Calls to one worker thread: each message gets an id the worker answers with (WorkerReply). The thread starts with
 * the first call, is referenced only while it owes answers (an idle worker never keeps the process alive), and when
 * it dies the calls waiting on it fail and the next call starts a new one.
 */
export class WorkerCalls {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: ModuleWorkerOptions) {}

  /** True while the thread is running. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Posts `body` with an id added; `transfer` moves buffers to the worker instead of copying them. */
  call(body: object, transfer?: ArrayBuffer[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error(`${this.options.name} is closed`));
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      // Not `{ ...body, id }`: see src/core/objects.ts.
      const message = Object.assign({}, body) as { id: number };
      message.id = id;
      worker.postMessage(message, transfer);
    });
  }

  /** Sends `last` (if a thread is running) and waits for its answer, then ends the thread; later calls fail. */
  async close(last?: object): Promise<void> {
    if (this.closed) return;
    const worker = this.worker;
    if (worker && last) await this.call(last).catch(() => undefined);
    this.closed = true;
    if (worker) await worker.terminate();
  }

  private spawn(): Worker {
    const worker = startModuleWorker(this.options);
    worker.unref();
    worker.on('message', (reply: WorkerReply) => this.answer(worker, reply));
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) => this.lost(worker, new Error(`${this.options.name} exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private answer(worker: Worker, reply: WorkerReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) worker.unref();
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(new Error(reply.message));
  }

  private lost(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const call of waiting) call.reject(error);
    if (!this.closed) this.options.onLost?.(error);
  }
}

/** The worker side: answers every message with `handle`'s result or error, in the reply shape WorkerCalls expects. */
export function answerCalls<Message extends { id: number }>(port: { on(event: 'message', listener: (message: Message) => void): unknown; postMessage(reply: WorkerReply): void }, handle: (message: Message) => Promise<unknown>): void {
  port.on('message', (message) => {
    handle(message).then(
      (value) => port.postMessage({ id: message.id, ok: true, value }),
      (error: unknown) => port.postMessage({ id: message.id, ok: false, message: error instanceof Error ? error.message : String(error) }),
    );
  });
}
