// The log destination: lines gathered in memory and written to a file descriptor (stdout) in large batches, one
// write in flight at a time. A write is a thread-pool round trip that costs ~30 µs of CPU whatever its size (measured),
// so writing per line cost more than building the line; batched, it is a fraction of a microsecond per line.
// Bounded: if the descriptor stops draining, lines past `maxPendingBytes` are dropped and counted, never queued without
// limit. Whatever is pending is written synchronously when the process exits.
import { write, writeSync } from 'node:fs';

export interface LogWriterOptions {
  /** Write as soon as this many bytes are pending. */
  batchBytes?: number;
  /** Otherwise write this long after the first pending line. */
  flushMs?: number;
  /** Drop lines beyond this many pending bytes (a stuck stdout must not grow memory). */
  maxPendingBytes?: number;
}

let droppedLines = 0;

/** Lines dropped by every writer of the process because their destination did not drain (a metric reads it). */
export function droppedLogLines(): number {
  return droppedLines;
}

export class BatchedLogWriter {
  private readonly batchBytes: number;
  private readonly flushMs: number;
  private readonly maxPendingBytes: number;
  private pending: string[] = [];
  /** UTF-16 length of the pending lines: bytes for the ASCII a log line mostly is, and a fine bound otherwise. */
  private pendingLength = 0;
  private writing = false;
  private broken = false;
  private timer: NodeJS.Timeout | undefined;
  private waiting: Array<() => void> = [];
  private readonly onExit = () => this.flushSync();
  private readonly onTimer = () => {
    this.timer = undefined;
    this.startWrite();
  };

  constructor(
    private readonly fd = 1,
    options: LogWriterOptions = {},
  ) {
    this.batchBytes = options.batchBytes ?? 64 * 1024;
    this.flushMs = options.flushMs ?? 50;
    this.maxPendingBytes = options.maxPendingBytes ?? 16 * 1024 * 1024;
    process.once('exit', this.onExit);
  }

  /** Takes one or more whole lines (each ending in a newline). */
  write(lines: string): boolean {
    if (this.broken || this.pendingLength + lines.length > this.maxPendingBytes) {
      droppedLines++;
      return false;
    }
    this.pending.push(lines);
    this.pendingLength += lines.length;
    if (this.pendingLength >= this.batchBytes) this.startWrite();
    else if (!this.timer && !this.writing) {
      this.timer = setTimeout(this.onTimer, this.flushMs);
      this.timer.unref();
    }
    return true;
  }

  /** Writes what is pending now; `callback` runs once it is written (pino's `logger.flush(cb)` calls this). */
  flush(callback?: (error?: Error) => void): void {
    if (callback) this.waiting.push(() => callback());
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.writing) this.startWrite();
  }

  /** Writes what is pending before returning (exit). A write already in flight finishes on its own. */
  flushSync(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.broken || this.pending.length === 0) return;
    let data = Buffer.from(this.takePending());
    for (let tries = 0; data.length > 0 && tries < 1000; tries++) {
      try {
        data = data.subarray(writeSync(this.fd, data));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      }
    }
  }

  close(): void {
    this.flushSync();
    process.removeListener('exit', this.onExit);
  }

  private takePending(): string {
    const data = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
    this.pending = [];
    this.pendingLength = 0;
    return data;
  }

  private startWrite(): void {
    if (this.writing || this.broken) return;
    if (this.pending.length === 0) {
      this.release();
      return;
    }
    this.writing = true;
    this.writeBuffer(Buffer.from(this.takePending()));
  }

  private writeBuffer(data: Buffer): void {
    write(this.fd, data, 0, data.length, null, (error, written) => {
      if (error) {
        if (error.code === 'EAGAIN') {
          setTimeout(() => this.writeBuffer(data), 10).unref();
          return;
        }
        // EPIPE, EBADF…: the destination is gone; stop logging rather than loop or throw.
        this.broken = true;
        this.writing = false;
        droppedLines += this.pending.length;
        this.pending = [];
        this.pendingLength = 0;
        this.release();
        return;
      }
      if (written < data.length) {
        this.writeBuffer(data.subarray(written));
        return;
      }
      this.writing = false;
      if (this.pendingLength >= this.batchBytes || (this.pending.length > 0 && this.waiting.length > 0)) this.startWrite();
      else {
        if (this.pending.length > 0 && !this.timer) {
          this.timer = setTimeout(this.onTimer, this.flushMs);
          this.timer.unref();
        }
        this.release();
      }
    });
  }

  private release(): void {
    if (this.waiting.length === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const done of waiting) done();
  }
}
