// Test support: a throwaway redis-server on a free port (never the machine's shared one), to kill and restart in outage tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class ThrowawayRedis {
  private process: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server, or resolves undefined when it is not installed (outside CI). */
  static async start(): Promise<ThrowawayRedis | undefined> {
    return ThrowawayRedis.startOn(await freePort());
  }

  /** Starts redis-server on a given (free) port, or resolves undefined when it is not installed (outside CI). */
  static async startOn(port: number): Promise<ThrowawayRedis | undefined> {
    const redis = new ThrowawayRedis(port);
    try {
      await redis.restart();
      return redis;
    } catch (error) {
      if (process.env.CI === 'true') throw error;
      return undefined;
    }
  }

  async restart(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      const deadline = Date.now() + 5_000;
      const probe = async () => {
        const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.ping();
          client.disconnect();
          resolve();
        } catch {
          client.disconnect();
          if (Date.now() > deadline) reject(new Error('redis-server did not start'));
          else setTimeout(() => void probe(), 50);
        }
      };
      void probe();
    });
  }

  /** Kills the server outright (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  thaw(): void {
    this.process?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    this.thaw();
    await this.kill();
  }
}
