// Admin API for the response cache (master key only): stats, and purges by namespace, tenant or entry key.
import type { FastifyInstance } from 'fastify';
import { tenantHash } from '../../cache/cache-key.js';
import type { ResponseCache } from '../../cache/response-cache.js';
import type { PurgeFilter } from '../../cache/stores/shared-store.js';
import type { Config } from '../../config/schema.js';
import { GatewayError } from '../../core/errors.js';
import { contextOf } from '../request-context.js';

const namePattern = /^[A-Za-z0-9._-]{1,64}$/;
const keyPattern = /^[A-Za-z0-9._-]{1,64}:[0-9a-f]{24}:[0-9a-f]{64}$/;

interface PurgeQuery {
  namespace?: string;
  tenant?: string;
  key?: string;
  all?: string;
}

export function registerCacheAdminRoutes(app: FastifyInstance, cache: ResponseCache, config: Config): void {
  const requireMaster = (request: Parameters<typeof contextOf>[0]) => {
    // With auth on, only the master key (not a virtual key) may see or purge the cache; with auth off the gateway is loopback-only.
    if (config.auth.master_key && contextOf(request).principal.keyId !== 'master') {
      throw new GatewayError('BW_ERR_UNAUTHORIZED', 'the cache admin API needs the master key', { publicCode: 'invalid_api_key' });
    }
  };

  app.get('/admin/cache', async (request) => {
    requireMaster(request);
    return {
      memory: { bytes: cache.memory.bytes, entries: cache.memory.size, evictions: cache.memory.evictions },
      semantic: cache.semantic ? { entries: cache.semantic.index.size, evictions: cache.semantic.index.evictions } : null,
    };
  });

  app.delete<{ Querystring: PurgeQuery }>('/admin/cache', async (request) => {
    requireMaster(request);
    const query = request.query;
    const filter: PurgeFilter = {};
    if (query.key !== undefined) {
      if (!keyPattern.test(query.key)) throw new GatewayError('BW_ERR_INVALID_REQUEST', 'key: an x-breakwater-cache-key value', { param: 'key' });
      filter.key = query.key;
    }
    if (query.namespace !== undefined) {
      if (!namePattern.test(query.namespace)) throw new GatewayError('BW_ERR_INVALID_REQUEST', 'namespace: 1-64 characters of [A-Za-z0-9._-]', { param: 'namespace' });
      filter.namespace = query.namespace;
    }
    if (query.tenant !== undefined) {
      if (query.tenant === '' || query.tenant.length > 256) throw new GatewayError('BW_ERR_INVALID_REQUEST', 'tenant: a team or key id', { param: 'tenant' });
      filter.tenant = tenantHash(query.tenant);
    }
    if (Object.keys(filter).length === 0 && query.all !== 'true') {
      throw new GatewayError('BW_ERR_INVALID_REQUEST', 'name what to purge: key, namespace and/or tenant (or all=true for everything)', { param: 'namespace' });
    }
    const removed = await cache.purge(filter);
    return { purged: removed };
  });
}
