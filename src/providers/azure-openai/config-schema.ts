// Config for Azure OpenAI's Microsoft Entra ID client-credentials flow (`providers[].azure_ad`).
import { Type, type Static } from '@sinclair/typebox';

export const AzureEntraSettingsSchema = Type.Object(
  {
    tenant_id: Type.Optional(Type.String({ minLength: 1, description: 'directory (tenant) id; default: AZURE_TENANT_ID' })),
    client_id: Type.Optional(Type.String({ minLength: 1, description: 'application (client) id; default: AZURE_CLIENT_ID' })),
    client_secret: Type.Optional(Type.String({ minLength: 1, description: 'client secret; default: AZURE_CLIENT_SECRET' })),
    authority_host: Type.Optional(
      Type.String({ minLength: 1, description: 'https origin of the token service, for sovereign clouds (https://login.microsoftonline.us, https://login.chinacloudapi.cn); default: AZURE_AUTHORITY_HOST, then https://login.microsoftonline.com' }),
    ),
    scope: Type.String({ minLength: 1, default: 'https://cognitiveservices.azure.com/.default', description: 'token scope (Azure Government: https://cognitiveservices.azure.us/.default)' }),
    refresh_before_s: Type.Integer({ minimum: 0, maximum: 3600, default: 300, description: 'a token is replaced this many seconds before it expires' }),
    timeout_ms: Type.Integer({ minimum: 1, maximum: 60_000, default: 10_000, description: 'time allowed for one token request' }),
  },
  { additionalProperties: false },
);

export type AzureEntraSettings = Static<typeof AzureEntraSettingsSchema>;
