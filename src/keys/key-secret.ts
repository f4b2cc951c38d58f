// Virtual-key secrets: `bw-` + 32 random base64url characters, shown once; only their sha256 is stored.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const keySecretPrefix = 'bw-';

export function generateSecret(): string {
  return keySecretPrefix + randomBytes(24).toString('base64url');
}

export function generateKeyId(): string {
  return `key_${randomBytes(8).toString('hex')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time equality of two hex digests. */
export function sameHash(left: string, right: string): boolean {
  const a = Buffer.from(left, 'hex');
  const b = Buffer.from(right, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function looksLikeVirtualKey(presented: string): boolean {
  return presented.startsWith(keySecretPrefix) && presented.length <= 128;
}
