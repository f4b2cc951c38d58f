// Test helper: a connected Redis client on the machine's server, or undefined (skip) when it is not running outside CI.
import { Redis } from 'ioredis';

export const testRedisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function connectTestRedis(url = testRedisUrl): Promise<Redis | undefined> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1_000, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    client.disconnect();
    if (process.env.CI === 'true') throw error;
    return undefined;
  }
}
