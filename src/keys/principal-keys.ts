// Links an authenticated principal to its virtual key's record, so later steps see the key's overrides
// (allowed models, limits, budgets) without another lookup and without widening the shared Principal type.
import type { Principal } from '../pipeline/context.js';
import type { KeyRecord } from './key-record.js';

const records = new WeakMap<Principal, KeyRecord>();

export function attachKeyRecord(principal: Principal, record: KeyRecord): void {
  records.set(principal, record);
}

export function keyRecordOf(principal: Principal): KeyRecord | undefined {
  return records.get(principal);
}
