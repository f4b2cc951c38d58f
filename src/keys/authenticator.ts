// Authenticates API callers: the master key (operators) or a virtual key (tenants) → the request's principal.
import { GatewayError } from '../core/errors.js';
import type { Principal } from '../pipeline/context.js';
import { MasterKeyCheck } from '../server/auth.js';
import type { KeyService } from './key-service.js';
import { looksLikeVirtualKey } from './key-secret.js';
import { attachKeyRecord } from './principal-keys.js';

export class Authenticator {
  private readonly master: MasterKeyCheck;

  constructor(
    masterKey: string,
    private readonly keys: KeyService | undefined,
  ) {
    this.master = new MasterKeyCheck(masterKey);
  }

  /** The principal for the presented credentials, or undefined (→ 401). Throws BW_ERR_AUTH_UNAVAILABLE when the key store cannot answer. */
  async authenticate(authorization: string | undefined, apiKey: string | string[] | undefined): Promise<Principal | undefined> {
    if (this.master.accepts(authorization, apiKey)) return { keyId: 'master' };
    const presented = presentedKey(authorization, apiKey);
    if (!this.keys || presented === undefined || !looksLikeVirtualKey(presented)) return undefined;
    let record;
    try {
      record = await this.keys.authenticate(presented);
    } catch (error) {
      throw new GatewayError('BW_ERR_AUTH_UNAVAILABLE', 'The key store is unavailable; try again shortly', { retryAfterMs: 1_000, cause: error });
    }
    if (!record) return undefined;
    const principal: Principal = { keyId: record.id };
    if (record.team) principal.team = record.team;
    if (record.user) principal.user = record.user;
    if (record.tier) principal.tier = record.tier;
    attachKeyRecord(principal, record);
    return principal;
  }
}

function presentedKey(authorization: string | undefined, apiKey: string | string[] | undefined): string | undefined {
  if (authorization !== undefined && /^bearer /i.test(authorization)) return authorization.slice(7).trim();
  if (typeof apiKey === 'string') return apiKey;
  return undefined;
}
