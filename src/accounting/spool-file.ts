// A local append-only JSON-lines file that holds spend records while the ledger store is unreachable.
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { SpendRecord } from './spend-ledger.js';

export class SpoolFile {
  constructor(readonly path: string) {}

  async append(records: readonly SpendRecord[]): Promise<void> {
    if (records.length === 0) return;
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, records.map((record) => JSON.stringify(record)).join('\n') + '\n', { mode: 0o600 });
  }

  async size(): Promise<number> {
    try {
      return (await stat(this.path)).size;
    } catch {
      return 0;
    }
  }

  /** Reads the records in batches; a torn last line (crash mid-write) is skipped. */
  async *batches(batchSize: number): AsyncGenerator<SpendRecord[]> {
    if ((await this.size()) === 0) return;
    const lines = createInterface({ input: createReadStream(this.path, { encoding: 'utf8' }), crlfDelay: Infinity });
    let batch: SpendRecord[] = [];
    for await (const line of lines) {
      if (line.length === 0) continue;
      try {
        batch.push(JSON.parse(line) as SpendRecord);
      } catch {
        continue;
      }
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  async clear(): Promise<void> {
    await truncate(this.path, 0).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}
