// The exact-cache key: a hash of the normalised request (what changes the answer) scoped by namespace and tenant.
// Stream flags, client user ids and metadata are left out: they change how an answer is delivered, not what it is.
import { createHash } from 'node:crypto';
import type { ChatMessage, ChatRequest } from '../core/types.js';

/** Request fields that never change the completion's content. */
const deliveryFields = new Set(['stream', 'stream_options', 'user', 'metadata', 'store', 'service_tier', 'request_id']);

export interface CacheScope {
  namespace: string;
  /** Team, else key id: entries are never served across tenants. */
  tenant: string;
}

/** Storage key `<namespace>:<tenant hash>:<request hash>`; the namespace prefix lets purges find entries by pattern. */
export function exactKey(scope: CacheScope, request: ChatRequest): string {
  return `${scope.namespace}:${tenantHash(scope.tenant)}:${sha256(canonicalJson(contentFields(request)))}`;
}

export function tenantHash(tenant: string): string {
  return sha256(`tenant\u0000${tenant}`).slice(0, 24);
}

/**
 * Everything but the last user turn, hashed: the system prompt, earlier turns and every sampling parameter. The
 * semantic cache compares questions only within one fingerprint, so the same words in another conversation miss.
 */
export function conversationFingerprint(request: ChatRequest): string {
  const fields = contentFields(request);
  fields.messages = request.messages.slice(0, -1);
  return sha256(canonicalJson(fields)).slice(0, 32);
}

/** The text of the last message when it is the user's (the question the semantic cache compares), else undefined. */
export function lastUserText(request: ChatRequest): string | undefined {
  const last: ChatMessage | undefined = request.messages[request.messages.length - 1];
  if (!last || last.role !== 'user') return undefined;
  if (typeof last.content === 'string') return last.content;
  if (!Array.isArray(last.content)) return undefined;
  // Images or audio make the question more than its text: those turns are left to the exact cache.
  if (last.content.some((part) => part.type !== 'text')) return undefined;
  return last.content.map((part) => part.text ?? '').join('\n');
}

function contentFields(request: ChatRequest): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request)) if (!deliveryFields.has(name) && value !== undefined && value !== null) fields[name] = value;
  return fields;
}

/** JSON with object keys sorted at every depth, so key order in the client's body does not change the hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([one], [other]) => (one < other ? -1 : one > other ? 1 : 0));
    return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
