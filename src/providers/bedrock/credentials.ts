// AWS region and credentials for Bedrock: the provider's `aws:` config first, then the standard environment variables.
import { ConfigError } from '../../config/config-error.js';
import type { ProviderConfig } from '../../config/schema.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsSettings {
  region: string;
  credentials: AwsCredentials;
}

/** Read once at start-up: credentials never come from the request path. */
export function resolveAwsSettings(config: ProviderConfig, environment: NodeJS.ProcessEnv = process.env): AwsSettings {
  const aws = config.aws ?? {};
  const at = `providers[${config.name}].aws`;
  const region = aws.region ?? environment.AWS_REGION ?? environment.AWS_DEFAULT_REGION;
  if (!region) throw new ConfigError(`${at}.region`, 'required for type bedrock (or set AWS_REGION)');
  const accessKeyId = aws.access_key_id ?? environment.AWS_ACCESS_KEY_ID;
  const secretAccessKey = aws.secret_access_key ?? environment.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId) throw new ConfigError(`${at}.access_key_id`, 'required for type bedrock (or set AWS_ACCESS_KEY_ID)');
  if (!secretAccessKey) throw new ConfigError(`${at}.secret_access_key`, 'required for type bedrock (or set AWS_SECRET_ACCESS_KEY)');
  // A session token only belongs to the key pair it came with: take it from where the keys came from.
  const sessionToken = aws.access_key_id !== undefined ? aws.session_token : (aws.session_token ?? environment.AWS_SESSION_TOKEN);
  return { region, credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } };
}
