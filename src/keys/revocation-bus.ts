// Tells every replica that a key was revoked, so each drops it from its cache at once: Redis pub/sub.
import type { Redis } from 'ioredis';

export interface RevocationBus {
  publish(hash: string): Promise<void>;
  /** Calls `onRevoked` with each revoked key's hash; resolves once subscribed; returns the unsubscribe function. */
  subscribe(onRevoked: (hash: string) => void): Promise<() => Promise<void>>;
}

export class RedisRevocationBus implements RevocationBus {
  private readonly channel: string;

  /** `subscriber` must be a connection of its own: Redis puts subscribing connections in a special mode. */
  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    keyPrefix: string,
  ) {
    this.channel = `${keyPrefix}keys:revoked`;
  }

  async publish(hash: string): Promise<void> {
    // The cache TTL still bounds the delay if this fails, so a Redis hiccup must not fail the revocation itself.
    await this.publisher.publish(this.channel, hash).catch(() => undefined);
  }

  async subscribe(onRevoked: (hash: string) => void): Promise<() => Promise<void>> {
    const listener = (channel: string, message: string) => {
      if (channel === this.channel) onRevoked(message);
    };
    let subscribed = false;
    const trySubscribe = () =>
      this.subscriber.subscribe(this.channel).then(
        () => void (subscribed = true),
        () => undefined,
      );
    // ioredis re-subscribes after a reconnect once a subscription succeeded; until then, try on every (re)connection.
    const onReady = () => {
      if (!subscribed) void trySubscribe();
    };
    this.subscriber.on('message', listener);
    this.subscriber.on('ready', onReady);
    if (this.subscriber.status === 'ready') await trySubscribe();
    else await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      this.subscriber.once('ready', () => {
        clearTimeout(timer);
        void trySubscribe().then(resolve);
      });
    });
    return async () => {
      this.subscriber.off('message', listener);
      this.subscriber.off('ready', onReady);
      if (subscribed) await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
    };
  }
}
