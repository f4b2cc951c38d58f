// Bearer-key authentication with a constant-time comparison.
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export class MasterKeyCheck {
  private readonly expected: Buffer;

  constructor(masterKey: string) {
    this.expected = digest(masterKey);
  }

  /** Accepts `Authorization: Bearer <key>` (OpenAI SDKs) or `x-api-key: <key>` (Anthropic SDKs). */
  accepts(authorization: string | undefined, apiKey: string | string[] | undefined): boolean {
    let presented: string | undefined;
    if (authorization !== undefined && /^bearer /i.test(authorization)) presented = authorization.slice(7).trim();
    else if (typeof apiKey === 'string') presented = apiKey;
    if (presented === undefined || presented.length === 0) return false;
    // Comparing fixed-length digests keeps the time independent of where the keys differ and of their lengths.
    return timingSafeEqual(digest(presented), this.expected);
  }
}
