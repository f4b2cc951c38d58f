// Turns caller-supplied names (user ids, session ids, model names) into bounded, safe parts of a storage key.
import { createHash } from 'node:crypto';

const plain = /^[A-Za-z0-9._@:-]{1,64}$/;

export function subjectKey(value: string): string {
  return plain.test(value) ? value : `h.${createHash('sha256').update(value).digest('base64url').slice(0, 22)}`;
}
