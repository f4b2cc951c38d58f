// Reads an OpenAI-format JSON response, refusing bodies that are not what they claim to be.
import { GatewayError } from '../../core/errors.js';

export function parseJsonBody<T>(provider: string, contentType: string | string[] | undefined, text: string, check: (value: unknown) => boolean): T {
  const type = Array.isArray(contentType) ? contentType[0] : contentType;
  if (!type || !type.includes('json')) {
    throw new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${provider} answered with content type ${type ?? '(none)'} instead of JSON`, {
      upstreamKind: 'bad_response',
      provider,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${provider} sent malformed JSON`, { upstreamKind: 'bad_response', provider });
  }
  if (!check(value)) {
    throw new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${provider} sent JSON of an unexpected shape`, { upstreamKind: 'bad_response', provider });
  }
  return value as T;
}

export function isChatCompletion(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Array.isArray((value as { choices?: unknown }).choices);
}

export function isEmbeddingsResponse(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Array.isArray((value as { data?: unknown }).data);
}
