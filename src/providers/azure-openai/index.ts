// The Azure OpenAI adapter: OpenAI's wire format at deployment URLs, with `api-version` and `api-key` (or Entra ID) auth.
import { ConfigError } from '../../config/config-error.js';
import type { ProviderConfig } from '../../config/schema.js';
import { OpenAIAdapter } from '../openai/index.js';
import type { ChatRequest, StreamChunk } from '../../core/types.js';
import type { CallOptions } from '../types.js';
import { EntraTokenSource, type EntraTokenOptions } from './entra-token.js';
import { withoutFilterAnnotations } from './stream.js';

/** The newest generally available data-plane API version when this adapter was written; override with `api_version`. */
export const defaultAzureApiVersion = '2024-10-21';

export class AzureOpenAIAdapter extends OpenAIAdapter {
  private readonly versionQuery: string;

  /** `environment` supplies AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET / AZURE_AUTHORITY_HOST for `azure_ad`. */
  constructor(config: ProviderConfig, environment: NodeJS.ProcessEnv = process.env, entraOptions: EntraTokenOptions = {}) {
    if (!config.base_url) {
      throw new ConfigError(`providers[${config.name}].base_url`, 'required for type azure-openai (https://<resource>.openai.azure.com)');
    }
    const entra = entraTokenSource(config, environment, entraOptions);
    super({
      config,
      baseUrl: resourceUrl(config.base_url),
      authHeaders: entra ? {} : authHeaders(config),
      ...(entra ? { authHeaderSource: async () => ({ authorization: `Bearer ${await entra.token()}` }) } : {}),
    });
    this.versionQuery = `?api-version=${encodeURIComponent(config.api_version ?? defaultAzureApiVersion)}`;
  }

  override async chatStream(request: ChatRequest, options: CallOptions): Promise<AsyncIterable<StreamChunk>> {
    return withoutFilterAnnotations(await super.chatStream(request, options));
  }

  /** Azure names the deployment, not the model, in the URL: the config's `{ name, model }` maps a public name to a deployment. */
  protected override endpointPath(endpoint: 'chat' | 'embeddings', options: CallOptions): string {
    const deployment = encodeURIComponent(options.upstreamModel);
    return `/openai/deployments/${deployment}/${endpoint === 'chat' ? 'chat/completions' : 'embeddings'}${this.versionQuery}`;
  }
}

/** Accepts the resource URL with or without a trailing `/openai`, as the Azure portal shows it either way. */
function resourceUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/openai$/, '');
}

/** The client-credentials flow when `azure_ad` is configured; one way of authenticating per provider, so no mixing. */
function entraTokenSource(config: ProviderConfig, environment: NodeJS.ProcessEnv, options: EntraTokenOptions): EntraTokenSource | undefined {
  if (!config.azure_ad) return undefined;
  const at = `providers[${config.name}]`;
  if (config.azure_ad_token) throw new ConfigError(`${at}.azure_ad`, 'set either azure_ad (client credentials, refreshed) or azure_ad_token (a fixed token), not both');
  if (config.api_key) throw new ConfigError(`${at}.azure_ad`, 'set either azure_ad (Entra ID) or api_key, not both');
  return new EntraTokenSource(config.name, config, config.azure_ad, environment, options);
}

function authHeaders(config: ProviderConfig): Record<string, string> {
  if (config.azure_ad_token) return { authorization: `Bearer ${config.azure_ad_token}` };
  if (config.api_key) return { 'api-key': config.api_key };
  return {};
}
