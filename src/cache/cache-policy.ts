// Decides, per request, whether the cache may answer it and whether its answer may be stored, for how long and
// in which namespace — from the config (global and per model) and the client's headers.
import type { ChatRequest } from '../core/types.js';
import { GatewayError } from '../core/errors.js';
import type { CacheConfig } from './config-schema.js';

export interface CacheDecision {
  /** Look for a stored answer (false with `Cache-Control: no-cache`). */
  lookup: boolean;
  /** Store the answer (false with `no-store`). */
  store: boolean;
  semantic: boolean;
  namespace: string;
  ttlMs: number;
}

type Headers = Record<string, string | string[] | undefined>;

const namePattern = /^[A-Za-z0-9._-]{1,64}$/;

export class CachePolicy {
  constructor(private readonly config: CacheConfig) {}

  /** Undefined means bypass: neither lookup nor store. Throws 400 for a malformed cache header. */
  decide(request: ChatRequest, headers: Headers): CacheDecision | undefined {
    const directives = tokens(headers['x-breakwater-cache']);
    const cacheControl = tokens(headers['cache-control']);
    for (const directive of directives) {
      if (!['force', 'exact', 'off', 'bypass'].includes(directive)) {
        throw new GatewayError('BW_ERR_INVALID_REQUEST', `x-breakwater-cache: unknown directive \`${directive}\` (use force, exact or off)`, { param: 'x-breakwater-cache' });
      }
    }
    if (directives.has('off') || directives.has('bypass') || cacheControl.has('no-store')) return undefined;
    const override = this.config.models[request.model];
    const mode = override?.mode ?? this.config.mode;
    if (mode === 'off') return undefined;
    if (mode === 'deterministic' && !directives.has('force') && !isDeterministic(request)) return undefined;
    const namespace = this.namespace(headers);
    return {
      lookup: !cacheControl.has('no-cache'),
      store: true,
      semantic: this.config.semantic.enabled && (override?.semantic ?? true) && !directives.has('exact'),
      namespace,
      ttlMs: this.ttlSeconds(headers, namespace, override?.ttl_seconds) * 1000,
    };
  }

  private namespace(headers: Headers): string {
    const given = single(headers['x-breakwater-cache-namespace']);
    if (given === undefined) return this.config.namespace;
    if (!namePattern.test(given)) {
      throw new GatewayError('BW_ERR_INVALID_REQUEST', 'x-breakwater-cache-namespace: 1-64 characters of [A-Za-z0-9._-]', { param: 'x-breakwater-cache-namespace' });
    }
    return given;
  }

  private ttlSeconds(headers: Headers, namespace: string, modelTtl: number | undefined): number {
    const given = single(headers['x-breakwater-cache-ttl']);
    if (given !== undefined) {
      const seconds = /^\d{1,9}$/.test(given) ? Number(given) : Number.NaN;
      if (!(seconds >= 1 && seconds <= this.config.max_ttl_seconds)) {
        throw new GatewayError('BW_ERR_INVALID_REQUEST', `x-breakwater-cache-ttl: whole seconds from 1 to ${this.config.max_ttl_seconds}`, { param: 'x-breakwater-cache-ttl' });
      }
      return seconds;
    }
    return modelTtl ?? this.config.namespaces[namespace]?.ttl_seconds ?? this.config.ttl_seconds;
  }
}

/** Same request, same answer: greedy decoding, or a fixed seed (best effort on the provider's side). */
export function isDeterministic(request: ChatRequest): boolean {
  return request.temperature === 0 || typeof request.seed === 'number';
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0]?.trim() : value?.trim();
}

function tokens(value: string | string[] | undefined): Set<string> {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(text.split(',').map((token) => token.trim().toLowerCase().split('=')[0] ?? '').filter((token) => token !== ''));
}
