// Azure OpenAI with Microsoft Entra ID client credentials, against a fake token endpoint and a fake Azure resource:
// the token is fetched once, cached, replaced before it expires (fake clock), concurrent refreshes share one request,
// and a refused or unreachable token service is an upstream auth error naming the cause.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import type { ProviderConfig } from '../../src/config/schema.js';
import { GatewayError } from '../../src/core/errors.js';
import { AzureOpenAIAdapter } from '../../src/providers/azure-openai/index.js';
import { validateAuthorityHost } from '../../src/providers/azure-openai/entra-token.js';
import type { CredentialRefreshEvent } from '../../src/providers/provider-events.js';
import { FakeClock } from '../../src/reliability/clock.js';
import { callOptions, loadFixture } from './conformance-support.js';

interface TokenRequest {
  path: string;
  form: URLSearchParams;
}

const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47';
let tokenServer: Server;
let resource: Server;
let authority = '';
let resourceUrl = '';
const tokenRequests: TokenRequest[] = [];
const authorizations: string[] = [];
/** What the token endpoint does next: answer with a token, refuse the client, or hold the answer until released. */
let tokenBehaviour: 'ok' | 'invalid_client' | 'hold' = 'ok';
let held: Array<() => void> = [];
let issued = 0;

async function readText(request: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function answerToken(response: ServerResponse): void {
  issued++;
  // The documented success shape (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow).
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: `entra-token-${issued}` }));
}

before(async () => {
  tokenServer = createServer((request, response) => {
    void readText(request).then((text) => {
      tokenRequests.push({ path: request.url ?? '', form: new URLSearchParams(text) });
      if (tokenBehaviour === 'invalid_client') {
        // The documented error shape of the same page.
        response.writeHead(401, { 'content-type': 'application/json' }).end(
          JSON.stringify({ error: 'invalid_client', error_description: "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: 0000", error_codes: [7000215] }),
        );
        return;
      }
      if (tokenBehaviour === 'hold') held.push(() => answerToken(response));
      else answerToken(response);
    });
  });
  resource = createServer((request, response) => {
    void readText(request).then(() => {
      authorizations.push(String(request.headers.authorization ?? ''));
      const fixture = loadFixture('azure-openai', 'text.json');
      response.writeHead(fixture.status, fixture.headers).end(fixture.body);
    });
  });
  await Promise.all([new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve)), new Promise<void>((resolve) => resource.listen(0, '127.0.0.1', resolve))]);
  authority = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}`;
  resourceUrl = `http://127.0.0.1:${(resource.address() as AddressInfo).port}`;
});

after(async () => {
  tokenServer.closeAllConnections();
  resource.closeAllConnections();
  await Promise.all([new Promise((resolve) => tokenServer.close(resolve)), new Promise((resolve) => resource.close(resolve))]);
});

beforeEach(() => {
  tokenRequests.length = 0;
  authorizations.length = 0;
  tokenBehaviour = 'ok';
  held = [];
});

function providerConfig(azureAd: Record<string, unknown>, extra: Record<string, unknown> = {}): ProviderConfig {
  const config = validateConfig({ providers: [{ name: 'azure', type: 'azure-openai', base_url: resourceUrl, models: [{ name: 'gpt-4o', model: 'prod-gpt4o' }], azure_ad: azureAd, ...extra }] });
  return config.providers[0] as ProviderConfig;
}

const environment = { AZURE_TENANT_ID: tenant, AZURE_CLIENT_ID: 'client-from-env', AZURE_CLIENT_SECRET: 'secret-from-env' };
const hello = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'Hello' }] };

function adapter(clock: FakeClock, azureAd: Record<string, unknown> = { authority_host: authority }, env: NodeJS.ProcessEnv = environment): AzureOpenAIAdapter {
  return new AzureOpenAIAdapter(providerConfig(azureAd), env, { clock, allowLoopbackHttp: true });
}

test('the client-credentials request: tenant in the path, form fields from the environment, the Cognitive Services scope', async () => {
  const azure = adapter(new FakeClock());
  try {
    await azure.chat(hello, callOptions('prod-gpt4o'));
    assert.equal(tokenRequests.length, 1);
    assert.equal(tokenRequests[0]?.path, `/${tenant}/oauth2/v2.0/token`);
    assert.deepEqual(Object.fromEntries(tokenRequests[0]?.form ?? []), {
      grant_type: 'client_credentials',
      client_id: 'client-from-env',
      client_secret: 'secret-from-env',
      scope: 'https://cognitiveservices.azure.com/.default',
    });
    assert.deepEqual(authorizations, [`Bearer entra-token-${issued}`]);
  } finally {
    await azure.close();
  }
});

test('config fields win over the environment; the scope is configurable (sovereign clouds)', async () => {
  const azure = adapter(new FakeClock(), { authority_host: authority, tenant_id: 'contoso.onmicrosoft.com', client_id: 'client-from-config', client_secret: 'secret-from-config', scope: 'https://cognitiveservices.azure.us/.default' });
  try {
    await azure.chat(hello, callOptions('prod-gpt4o'));
    assert.equal(tokenRequests[0]?.path, '/contoso.onmicrosoft.com/oauth2/v2.0/token');
    assert.equal(tokenRequests[0]?.form.get('client_id'), 'client-from-config');
    assert.equal(tokenRequests[0]?.form.get('client_secret'), 'secret-from-config');
    assert.equal(tokenRequests[0]?.form.get('scope'), 'https://cognitiveservices.azure.us/.default');
  } finally {
    await azure.close();
  }
});

/** Polls (no fixed sleep) until the fake token endpoint has answered `count` requests in all. */
async function tokenRequestsReach(count: number): Promise<void> {
  while (tokenRequests.length < count) await new Promise((resolve) => setImmediate(resolve));
}

test('cached until refresh_before_s before expiry, then replaced in the background without holding calls (fake clock)', async () => {
  const clock = new FakeClock();
  const azure = adapter(clock);
  try {
    await azure.chat(hello, callOptions('prod-gpt4o'));
    const first = authorizations[0];
    // 3599 s lifetime, refreshed 300 s early: at 3298 s the cached token is used, nothing is fetched …
    clock.advance(3_298_000);
    await azure.chat(hello, callOptions('prod-gpt4o'));
    assert.equal(tokenRequests.length, 1);
    assert.equal(authorizations[1], first);
    // … at 3300 s the call still goes out at once with the old token, while one request fetches the next …
    clock.advance(2_000);
    tokenBehaviour = 'hold';
    await azure.chat(hello, callOptions('prod-gpt4o'));
    assert.equal(authorizations[2], first);
    await tokenRequestsReach(2);
    for (const release of held) release();
    // … which the following calls use.
    let next = first;
    while (next === first) {
      await azure.chat(hello, callOptions('prod-gpt4o'));
      next = authorizations.at(-1);
    }
    assert.match(String(next), /^Bearer entra-token-\d+$/);
    assert.equal(tokenRequests.length, 2, 'one refresh for all those calls');
  } finally {
    await azure.close();
  }
});

test('with no valid token, calls wait for the one token request and fail with it', async () => {
  const clock = new FakeClock();
  const azure = adapter(clock);
  try {
    await azure.chat(hello, callOptions('prod-gpt4o'));
    clock.advance(3_600_000);
    await azure.chat(hello, callOptions('prod-gpt4o'));
    assert.equal(tokenRequests.length, 2, 'an expired token is never sent');
    assert.notEqual(authorizations[1], authorizations[0]);
  } finally {
    await azure.close();
  }
});

test('concurrent calls needing a token share one token request', async () => {
  const azure = adapter(new FakeClock());
  try {
    tokenBehaviour = 'hold';
    const calls = Array.from({ length: 8 }, () => azure.chat(hello, callOptions('prod-gpt4o')));
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    for (const release of held) release();
    await Promise.all(calls);
    assert.equal(tokenRequests.length, 1);
    assert.equal(new Set(authorizations).size, 1);
    assert.equal(authorizations.length, 8);
  } finally {
    await azure.close();
  }
});

test('a refused token request is an upstream auth error naming Entra’s reason; the secret is never in the message', async () => {
  const azure = adapter(new FakeClock());
  try {
    tokenBehaviour = 'invalid_client';
    await assert.rejects(azure.chat(hello, callOptions('prod-gpt4o')), (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.code, 'BW_ERR_UPSTREAM_AUTH');
      assert.equal(error.upstreamKind, 'auth');
      assert.equal(error.retryable, false);
      assert.match(error.message, /Microsoft Entra ID token.*HTTP 401 \(invalid_client: AADSTS7000215: Invalid client secret provided/);
      assert.doesNotMatch(error.message, /secret-from-env/);
      return true;
    });
    assert.equal(authorizations.length, 0, 'Azure is not called without a token');
  } finally {
    await azure.close();
  }
});

test('a failed refresh inside the early-refresh window keeps using the still-valid token; after expiry it fails', async () => {
  const clock = new FakeClock();
  const azure = adapter(clock);
  try {
    await azure.chat(hello, callOptions('prod-gpt4o'));
    const first = authorizations[0];
    tokenBehaviour = 'invalid_client';
    clock.advance(3_400_000);
    await azure.chat(hello, callOptions('prod-gpt4o'));
    assert.equal(authorizations[1], first);
    await tokenRequestsReach(2);
    clock.advance(200_000);
    await assert.rejects(azure.chat(hello, callOptions('prod-gpt4o')), (error: unknown) => error instanceof GatewayError && error.code === 'BW_ERR_UPSTREAM_AUTH');
  } finally {
    await azure.close();
  }
});

test('an unreachable token service is an upstream auth error too', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const azure = adapter(new FakeClock(), { authority_host: `http://127.0.0.1:${port}` });
  try {
    await assert.rejects(azure.chat(hello, callOptions('prod-gpt4o')), (error: unknown) => error instanceof GatewayError && error.code === 'BW_ERR_UPSTREAM_AUTH' && /could not be reached/.test(error.message));
  } finally {
    await azure.close();
  }
});

test('authority_host: https origins only (no http, paths, queries or credentials), checked at start-up', () => {
  assert.equal(validateAuthorityHost('https://login.microsoftonline.us', 'at').origin, 'https://login.microsoftonline.us');
  assert.equal(validateAuthorityHost('https://login.chinacloudapi.cn/', 'at').origin, 'https://login.chinacloudapi.cn');
  for (const bad of ['http://login.microsoftonline.com', 'login.microsoftonline.com', 'https://login.microsoftonline.com/tenant', 'https://login.microsoftonline.com/?x=1', 'https://user:pw@login.microsoftonline.com', 'ftp://login.microsoftonline.com']) {
    assert.throws(() => validateAuthorityHost(bad, 'providers[azure].azure_ad.authority_host'), /providers\[azure\]\.azure_ad\.authority_host/, bad);
  }
  // The loopback exception exists for tests only; from config, a plain-http authority is refused even on loopback.
  assert.throws(() => new AzureOpenAIAdapter(providerConfig({ authority_host: authority }), environment), /must be an https:\/\/ URL/);
  assert.throws(() => new AzureOpenAIAdapter(providerConfig({}), { ...environment, AZURE_AUTHORITY_HOST: 'http://login.microsoftonline.com' }), /authority_host: must be an https/);
});

test('start-up refuses incomplete or ambiguous Entra settings, naming the field', () => {
  const make = (azureAd: Record<string, unknown>, env: NodeJS.ProcessEnv, extra: Record<string, unknown> = {}) => () => new AzureOpenAIAdapter(providerConfig(azureAd, extra), env);
  assert.throws(make({}, {}), /azure_ad\.tenant_id: required.*AZURE_TENANT_ID/);
  assert.throws(make({ tenant_id: tenant }, {}), /azure_ad\.client_id: required/);
  assert.throws(make({ tenant_id: tenant, client_id: 'c' }, {}), /azure_ad\.client_secret: required/);
  assert.throws(make({ tenant_id: '../evil' }, environment), /tenant_id: must be a tenant GUID or domain name/);
  assert.throws(make({}, environment, { azure_ad_token: 'static' }), /either azure_ad .* or azure_ad_token/);
  assert.throws(make({}, environment, { api_key: 'k' }), /either azure_ad .* or api_key/);
  // The default authority is Azure's public cloud over https: valid without any setting.
  assert.doesNotThrow(make({}, environment));
});

test('each fetch or failed refresh is published on breakwater:providers:credential-refresh, without the token', async () => {
  const events: CredentialRefreshEvent[] = [];
  const listener = (message: unknown) => events.push(message as CredentialRefreshEvent);
  subscribe('breakwater:providers:credential-refresh', listener);
  const clock = new FakeClock();
  const azure = adapter(clock);
  try {
    await azure.chat(hello, callOptions('prod-gpt4o'));
    await azure.chat(hello, callOptions('prod-gpt4o'));
    tokenBehaviour = 'invalid_client';
    clock.advance(3_600_000);
    await assert.rejects(azure.chat(hello, callOptions('prod-gpt4o')));
    assert.deepEqual(events, [
      { provider: 'azure', kind: 'entra-client-credentials', outcome: 'success', expiresInSeconds: 3599 },
      { provider: 'azure', kind: 'entra-client-credentials', outcome: 'failure', reason: 'HTTP 401 invalid_client' },
    ]);
  } finally {
    unsubscribe('breakwater:providers:credential-refresh', listener);
    await azure.close();
  }
});
