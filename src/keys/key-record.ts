// What the gateway stores about a virtual key: owner, tier, per-key overrides, and only a hash of the secret.

export interface KeyBudget {
  period: 'day' | 'month';
  cost_usd?: number;
  tokens?: number;
}

export interface KeyRecord {
  /** Public id (`key_…`): shown in lists, logs and the ledger; never the secret. */
  id: string;
  /** sha256 (hex) of the secret. */
  hash: string;
  /** The secret's first characters, so people can recognise their key in a list. */
  prefix: string;
  name: string | null;
  team: string | null;
  user: string | null;
  tier: string | null;
  /** Allowed public model names (`null`: all). */
  models: string[] | null;
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
  budgets: KeyBudget[];
  /** ms since the epoch; `null`: never expires. */
  expiresAt: number | null;
  createdAt: number;
  revokedAt: number | null;
}

export interface KeyStore {
  migrate(): Promise<void>;
  insert(record: KeyRecord): Promise<void>;
  findByHash(hash: string): Promise<KeyRecord | undefined>;
  get(id: string): Promise<KeyRecord | undefined>;
  list(includeRevoked: boolean, limit?: number): Promise<KeyRecord[]>;
  /** Marks the key revoked; false when there is no such (live) key. */
  revoke(id: string, at: number): Promise<KeyRecord | undefined>;
  close(): Promise<void>;
}

/** The fields a key carries that are safe to show (everything but the hash). */
export function publicView(record: KeyRecord): Omit<KeyRecord, 'hash'> {
  const { hash: _hash, ...rest } = record;
  return rest;
}
