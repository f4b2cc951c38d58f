// Named events the provider adapters publish (node:diagnostics_channel); metrics and logs subscribe, adapters import nothing of theirs.
import { channel } from 'node:diagnostics_channel';

/** An upstream credential was fetched or refreshed (an Entra ID token), or the attempt failed. Never carries the credential. */
export interface CredentialRefreshEvent {
  provider: string;
  kind: 'entra-client-credentials';
  outcome: 'success' | 'failure';
  /** Seconds the new credential is valid for (success). */
  expiresInSeconds?: number;
  /** Why it failed: the token service's status and error code, or "unreachable" (failure). */
  reason?: string;
}

export const credentialRefresh = channel('breakwater:providers:credential-refresh');
