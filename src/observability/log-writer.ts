// The log destination: lines gathered in memory and written to a file descriptor (stdout) in large batches, one
// write in flight at a time. A write is a thread-pool round trip that costs ~30 µs of CPU whatever its size (measured),
// so writing per line cost more than building the line; batched, it is a fraction of a microsecond per line.
// Each line is copied into a byte chunk as it comes, so no line string outlives the call that logged it: held until
// the batch is written (up to flushMs), strings survived young-generation collections and were copied by each of them
// (measured: bench/RESULTS.md); bytes in a reused chunk cost the collector nothing.
// Bounded: if the descriptor stops draining, lines past `maxPendingBytes` are dropped and counted, never queued without
// limit. Whatever is pending is written synchronously when the process exits.
import { write, writeSync, writev } from 'node:fs';

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
  /** Full chunks waiting to be written, in order, then the open chunk (filled up to `openUsed`). */
  private sealed: Buffer[] = [];
  private open: Buffer | undefined;
  private openUsed = 0;
  /** Chunks written and free for reuse (at most two kept). */
  private readonly spare: Buffer[] = [];
  private pendingBytes = 0;
  private pendingLines = 0;
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
    // UTF-16 length × 3 bounds the UTF-8 size; log lines are nearly all ASCII, so the bound is checked first.
    const bound = lines.length * 3;
    if (this.broken || this.pendingBytes + lines.length > this.maxPendingBytes) {
      droppedLines++;
      return false;
    }
    let open = this.open;
    if (open === undefined || open.length - this.openUsed < bound) {
      if (bound > this.batchBytes) {
        // A line larger than a chunk is a chunk of its own.
        this.sealOpen();
        const bytes = Buffer.from(lines, 'utf8');
        this.sealed.push(bytes);
        this.pendingBytes += bytes.length;
        this.pendingLines++;
        this.afterWrite();
        return true;
      }
      this.sealOpen();
      open = this.spare.pop() ?? Buffer.allocUnsafeSlow(this.batchBytes);
      this.open = open;
      this.openUsed = 0;
    }
    const written = open.write(lines, this.openUsed, 'utf8');
    this.openUsed += written;
    this.pendingBytes += written;
    this.pendingLines++;
    this.afterWrite();
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
    if (this.broken || this.pendingBytes === 0) return;
    for (let data of this.takePending()) {
      for (let tries = 0; data.length > 0 && tries < 1000; tries++) {
        try {
          data = data.subarray(writeSync(this.fd, data));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
        }
      }
    }
  }

  close(): void {
    this.flushSync();
    process.removeListener('exit', this.onExit);
  }

  private afterWrite(): void {
    if (this.pendingBytes >= this.batchBytes) this.startWrite();
    else if (!this.timer && !this.writing) {
      this.timer = setTimeout(this.onTimer, this.flushMs);
      this.timer.unref();
    }
  }

  private sealOpen(): void {
    if (this.open === undefined) return;
    if (this.openUsed > 0) this.sealed.push(this.open.subarray(0, this.openUsed));
    else if (this.spare.length < 2) this.spare.push(this.open);
    this.open = undefined;
    this.openUsed = 0;
  }

  /** Everything pending as byte chunks (views of the chunks), oldest first; the writer starts afresh. */
  private takePending(): Buffer[] {
    this.sealOpen();
    const chunks = this.sealed;
    this.sealed = [];
    this.pendingBytes = 0;
    this.pendingLines = 0;
    return chunks;
  }

  private startWrite(): void {
    if (this.writing || this.broken) return;
    if (this.pendingBytes === 0) {
      this.release();
      return;
    }
    this.writing = true;
    this.writeChunks(this.takePending());
  }

  /** One write (or writev) of the chunks; a partial write continues with what is left. */
  private writeChunks(chunks: Buffer[]): void {
    const done = (error: NodeJS.ErrnoException | null, written: number) => {
      if (error) {
        if (error.code === 'EAGAIN') {
          setTimeout(() => this.writeChunks(chunks), 10).unref();
          return;
        }
        // EPIPE, EBADF…: the destination is gone; stop logging rather than loop or throw.
        this.broken = true;
        this.writing = false;
        droppedLines += this.pendingLines;
        this.takePending();
        this.release();
        return;
      }
      let rest = written;
      while (chunks.length > 0 && rest >= (chunks[0] as Buffer).length) {
        rest -= (chunks[0] as Buffer).length;
        this.recycle(chunks.shift() as Buffer);
      }
      if (chunks.length > 0) {
        chunks[0] = (chunks[0] as Buffer).subarray(rest);
        this.writeChunks(chunks);
        return;
      }
      this.writing = false;
      if (this.pendingBytes >= this.batchBytes || (this.pendingBytes > 0 && this.waiting.length > 0)) this.startWrite();
      else {
        if (this.pendingBytes > 0 && !this.timer) {
          this.timer = setTimeout(this.onTimer, this.flushMs);
          this.timer.unref();
        }
        this.release();
      }
    };
    if (chunks.length === 1) {
      const chunk = chunks[0] as Buffer;
      write(this.fd, chunk, 0, chunk.length, null, done);
    } else writev(this.fd, chunks, null, done);
  }

  /** A written chunk that is a whole batch-sized buffer is kept for reuse (two at most: memory stays bounded). */
  private recycle(chunk: Buffer): void {
    if (chunk.byteOffset === 0 && chunk.buffer.byteLength === this.batchBytes && this.spare.length < 2) {
      this.spare.push(Buffer.from(chunk.buffer, 0, this.batchBytes));
    }
  }

  private release(): void {
    if (this.waiting.length === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const done of waiting) done();
  }
}
