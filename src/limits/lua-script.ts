// Loads a Lua script from src/limits/lua/<name>-<numKeys>.lua once at start-up and runs it by EVALSHA (EVAL after a
// NOSCRIPT, e.g. once Redis restarted and lost its script cache).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';

function scriptPath(fileName: string): string {
  const beside = fileURLToPath(new URL(`./lua/${fileName}`, import.meta.url));
  if (existsSync(beside)) return beside;
  // Compiled to dist/limits/: tsc does not copy .lua files, so read them from the sources shipped with the package.
  return beside.replace(/([\\/])dist([\\/]limits[\\/])/, '$1src$2');
}

export class LuaScript {
  readonly numberOfKeys: number;
  private readonly source: string;
  private readonly sha: string;

  /** `fileName` is `<name>-<numKeys>.lua`; the number of KEYS comes from the name (CONVENTIONS §6). */
  constructor(fileName: string) {
    const match = /-(\d+)\.lua$/.exec(fileName);
    if (!match?.[1]) throw new Error(`Lua script name must be <name>-<numKeys>.lua: ${fileName}`);
    this.numberOfKeys = Number(match[1]);
    this.source = readFileSync(scriptPath(fileName), 'utf8');
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  async run(client: Redis, keys: string[], args: Array<string | number>): Promise<unknown> {
    if (keys.length !== this.numberOfKeys) throw new Error(`script expects ${this.numberOfKeys} keys, got ${keys.length}`);
    try {
      return await client.evalsha(this.sha, this.numberOfKeys, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, this.numberOfKeys, ...keys, ...args);
    }
  }
}
