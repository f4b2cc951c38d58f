// The cache's diagnostics channel: lookups, guard rejections, stores and evictions, for metrics to count.
import { channel } from 'node:diagnostics_channel';

export type CacheOutcome = 'hit' | 'semantic-hit' | 'miss' | 'bypass';

export type CacheEvent =
  | { gatewayId: number; type: 'lookup'; outcome: CacheOutcome }
  | { gatewayId: number; type: 'guard-rejection'; reason: string }
  | { gatewayId: number; type: 'store'; bytes: number }
  | { gatewayId: number; type: 'store-skipped'; reason: 'too-large' | 'incomplete' | 'error' }
  | { gatewayId: number; type: 'backend-error'; operation: string };

export const cacheChannel = channel('breakwater:cache');

export function publishCacheEvent(event: CacheEvent): void {
  if (cacheChannel.hasSubscribers) cacheChannel.publish(event);
}
