// Microsoft Entra ID client-credentials tokens for Azure OpenAI: fetched on first use, cached, replaced before they
// expire, one request at a time however many calls need a token at once.
import { request as undiciRequest } from 'undici';
import { ConfigError } from '../../config/config-error.js';
import type { ProviderConfig } from '../../config/schema.js';
import { GatewayError } from '../../core/errors.js';
import { systemClock, type Clock } from '../../reliability/clock.js';
import { credentialRefresh, type CredentialRefreshEvent } from '../provider-events.js';
import type { AzureEntraSettings } from './config-schema.js';

export const defaultAuthorityHost = 'https://login.microsoftonline.com';

export interface EntraTokenOptions {
  clock?: Clock;
  /** Tests only: lets the authority be a plain-http loopback server. Never set from config. */
  allowLoopbackHttp?: boolean;
}

interface ResolvedSettings {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  refreshBeforeMs: number;
  timeoutMs: number;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

// A token whose lifetime is shorter than this is still used, but never cached past its expiry.
const minimumLifetimeMs = 1_000;

/** Checks the authority host: an https origin (no path, query, fragment or credentials), so the secret only travels encrypted. */
export function validateAuthorityHost(value: string, at: string, allowLoopbackHttp = false): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(at, `not a URL: ${value}`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(allowLoopbackHttp && loopback && url.protocol === 'http:')) throw new ConfigError(at, 'must be an https:// URL (the client secret is sent to it)');
  if (url.username || url.password) throw new ConfigError(at, 'must not hold credentials');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) throw new ConfigError(at, 'must be an origin only, such as https://login.microsoftonline.us');
  return url;
}

function resolveSettings(config: ProviderConfig, settings: AzureEntraSettings, environment: NodeJS.ProcessEnv, allowLoopbackHttp: boolean): ResolvedSettings {
  const at = `providers[${config.name}].azure_ad`;
  const tenantId = settings.tenant_id ?? environment.AZURE_TENANT_ID;
  const clientId = settings.client_id ?? environment.AZURE_CLIENT_ID;
  const clientSecret = settings.client_secret ?? environment.AZURE_CLIENT_SECRET;
  if (!tenantId) throw new ConfigError(`${at}.tenant_id`, 'required for the client-credentials flow (or set AZURE_TENANT_ID)');
  // A tenant is a GUID or a domain name: anything else would change the token URL's path.
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(tenantId)) throw new ConfigError(`${at}.tenant_id`, 'must be a tenant GUID or domain name');
  if (!clientId) throw new ConfigError(`${at}.client_id`, 'required for the client-credentials flow (or set AZURE_CLIENT_ID)');
  if (!clientSecret) throw new ConfigError(`${at}.client_secret`, 'required for the client-credentials flow (or set AZURE_CLIENT_SECRET)');
  const authority = validateAuthorityHost(settings.authority_host ?? environment.AZURE_AUTHORITY_HOST ?? defaultAuthorityHost, `${at}.authority_host`, allowLoopbackHttp);
  return {
    tokenUrl: `${authority.origin}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`,
    clientId,
    clientSecret,
    scope: settings.scope,
    refreshBeforeMs: settings.refresh_before_s * 1000,
    timeoutMs: settings.timeout_ms,
  };
}

export class EntraTokenSource {
  private readonly settings: ResolvedSettings;
  private readonly clock: Clock;
  private cached: CachedToken | undefined;
  private inFlight: Promise<string> | undefined;

  constructor(
    private readonly provider: string,
    config: ProviderConfig,
    settings: AzureEntraSettings,
    environment: NodeJS.ProcessEnv = process.env,
    options: EntraTokenOptions = {},
  ) {
    this.settings = resolveSettings(config, settings, environment, options.allowLoopbackHttp ?? false);
    this.clock = options.clock ?? systemClock;
  }

  /**
   * A valid access token. The cached one is used until `refresh_before_s` before it expires; from then on calls still
   * get it at once while one background request replaces it (a failure there only matters once it has expired). Without
   * a valid token, callers wait for the one request in flight.
   */
  async token(): Promise<string> {
    const now = this.clock.now();
    const cached = this.cached;
    if (cached && now < cached.expiresAt - this.settings.refreshBeforeMs) return cached.value;
    const refresh = this.refresh();
    if (cached && now < cached.expiresAt) {
      // Published as a failure event already; the next call tries again.
      refresh.catch(() => undefined);
      return cached.value;
    }
    return refresh;
  }

  /** The token request in flight, or a new one: concurrent callers share it. */
  private refresh(): Promise<string> {
    this.inFlight ??= this.fetchToken().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.settings.clientId, client_secret: this.settings.clientSecret, scope: this.settings.scope });
    let status: number;
    let text: string;
    try {
      const response = await undiciRequest(this.settings.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        headersTimeout: this.settings.timeoutMs,
        bodyTimeout: this.settings.timeoutMs,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      throw this.failure(`the token service could not be reached (${error instanceof Error ? error.message : String(error)})`, 'unreachable');
    }
    const body = parseObject(text);
    if (status !== 200) {
      // Entra answers {error, error_description: "AADSTS7000215: Invalid client secret provided…"}; the description never holds the secret.
      const reason = [body?.error, body?.error_description].filter((part): part is string => typeof part === 'string').join(': ');
      throw this.failure(`the token service answered HTTP ${status}${reason ? ` (${reason.split('\n')[0]?.slice(0, 300) ?? ''})` : ''}`, `HTTP ${status}${typeof body?.error === 'string' ? ` ${body.error}` : ''}`);
    }
    const accessToken = body?.access_token;
    const expiresIn = Number(body?.expires_in);
    if (typeof accessToken !== 'string' || accessToken === '' || !Number.isFinite(expiresIn) || expiresIn <= 0) throw this.failure('the token service sent an answer without access_token and expires_in', 'bad answer');
    this.cached = { value: accessToken, expiresAt: this.clock.now() + Math.max(minimumLifetimeMs, expiresIn * 1000) };
    this.publish({ outcome: 'success', expiresInSeconds: expiresIn });
    return accessToken;
  }

  private publish(event: Omit<CredentialRefreshEvent, 'provider' | 'kind'>): void {
    if (credentialRefresh.hasSubscribers) credentialRefresh.publish({ provider: this.provider, kind: 'entra-client-credentials', ...event } satisfies CredentialRefreshEvent);
  }

  private failure(detail: string, reason: string): GatewayError {
    this.publish({ outcome: 'failure', reason });
    return new GatewayError('BW_ERR_UPSTREAM_AUTH', `upstream ${this.provider}: could not get a Microsoft Entra ID token: ${detail}`, { provider: this.provider, upstreamKind: 'auth' });
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
