// The Azure OpenAI adapter against a fake Azure endpoint (checks deployment URL, api-version and auth, then proxies to the simulator).
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { validateConfig } from '../../src/config/load.js';
import type { ProviderConfig } from '../../src/config/schema.js';
import { GatewayError } from '../../src/core/errors.js';
import type { StreamChunk } from '../../src/core/types.js';
import { AzureOpenAIAdapter, defaultAzureApiVersion } from '../../src/providers/azure-openai/index.js';
import { startSimServer, type SimServer } from '../../src/sim/index.js';
import { startTestGateway } from '../helpers/gateway.js';

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

let sim: SimServer;
let fake: Server;
let fakeUrl: string;
const seen: Seen[] = [];
const azurePath = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/;

before(async () => {
  sim = await startSimServer({ name: 'azure-sim' });
  const simPort = sim.port;
  // Azure's URL layout in front of the simulator: anything else is a 404, as Azure would answer.
  fake = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    seen.push({ method: request.method ?? '', path: url.pathname, query: url.searchParams, headers: request.headers });
    const match = azurePath.exec(url.pathname);
    if (!match || !url.searchParams.get('api-version')) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"404","message":"Resource not found"}}');
      return;
    }
    const deployment = decodeURIComponent(match[1] ?? '');
    const headers: IncomingHttpHeaders = { ...request.headers };
    if (deployment === 'throttled') headers['x-sim-fault'] = 'status=429;retry-after=2';
    if (deployment === 'too-long') headers['x-sim-fault'] = 'status=400;code=context_length_exceeded';
    const upstream = httpRequest({ host: '127.0.0.1', port: simPort, method: request.method, path: match[2] === 'embeddings' ? '/v1/embeddings' : '/v1/chat/completions', headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
});

after(async () => {
  fake.closeAllConnections();
  await new Promise((resolve) => fake.close(resolve));
  await sim.close();
});

function providerConfig(fields: Record<string, unknown>): ProviderConfig {
  const config = validateConfig({ providers: [{ name: 'azure', type: 'azure-openai', base_url: fakeUrl, models: [{ name: 'gpt-4o', model: 'my-gpt4o' }], ...fields }] });
  return config.providers[0] as ProviderConfig;
}

const callOptions = (deployment: string) => ({ signal: new AbortController().signal, requestId: 'req-azure-1', upstreamModel: deployment });

test('chat goes to the deployment URL with api-version and the api-key header (never a bearer token)', async () => {
  const adapter = new AzureOpenAIAdapter(providerConfig({ api_key: 'azure-secret-key' }));
  try {
    const result = await adapter.chat({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] }, callOptions('my-gpt4o'));
    assert.ok((result.completion.choices[0]?.message.content ?? '').length > 0);
    const last = seen.at(-1);
    assert.equal(last?.path, '/openai/deployments/my-gpt4o/chat/completions');
    assert.equal(last?.query.get('api-version'), defaultAzureApiVersion);
    assert.equal(last?.headers['api-key'], 'azure-secret-key');
    assert.equal(last?.headers.authorization, undefined);
  } finally {
    await adapter.close();
  }
});

test('an Entra ID token is sent as a bearer token; api_version and a /openai suffix in base_url are honoured', async () => {
  const adapter = new AzureOpenAIAdapter(providerConfig({ azure_ad_token: 'entra-token', api_version: '2025-01-01-preview', base_url: `${fakeUrl}/openai/` }));
  try {
    await adapter.chat({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] }, callOptions('dep with space'));
    const last = seen.at(-1);
    assert.equal(last?.path, '/openai/deployments/dep%20with%20space/chat/completions');
    assert.equal(last?.query.get('api-version'), '2025-01-01-preview');
    assert.equal(last?.headers.authorization, 'Bearer entra-token');
    assert.equal(last?.headers['api-key'], undefined);
  } finally {
    await adapter.close();
  }
});

test('streams and embeddings use the same deployment layout', async () => {
  const adapter = new AzureOpenAIAdapter(providerConfig({ api_key: 'k' }));
  try {
    const stream = await adapter.chatStream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }], stream: true }, callOptions('my-gpt4o'));
    const chunks: StreamChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.some((item) => item.chunk.usage), 'usage arrives (the adapter asks for it)');
    assert.equal(seen.at(-1)?.path, '/openai/deployments/my-gpt4o/chat/completions');
    const embeddings = await adapter.embeddings({ model: 'embed', input: ['a', 'b'] }, callOptions('my-embedder'));
    assert.equal(embeddings.response.data.length, 2);
    assert.equal(seen.at(-1)?.path, '/openai/deployments/my-embedder/embeddings');
  } finally {
    await adapter.close();
  }
});

test('errors map like OpenAI errors: 429 retryable with Retry-After, context length keeps its code', async () => {
  const adapter = new AzureOpenAIAdapter(providerConfig({ api_key: 'k' }));
  try {
    await assert.rejects(adapter.chat({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, callOptions('throttled')), (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.code, 'BW_ERR_UPSTREAM_RATE_LIMITED');
      assert.equal(error.retryable, true);
      assert.equal(error.retryAfterMs, 2000);
      return true;
    });
    await assert.rejects(adapter.chat({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, callOptions('too-long')), (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 400);
      assert.equal(error.publicCode, 'context_length_exceeded');
      assert.equal(error.retryable, false);
      return true;
    });
  } finally {
    await adapter.close();
  }
});

test('a base_url is required', () => {
  assert.throws(() => new AzureOpenAIAdapter({ ...providerConfig({}), base_url: undefined }), /base_url/);
});

test('end to end: the OpenAI SDK through the gateway, a public name mapped to an Azure deployment', async () => {
  const gateway = await startTestGateway({ providers: [{ name: 'azure', type: 'azure-openai', base_url: fakeUrl, api_key: 'azure-secret-key', models: [{ name: 'gpt-4o', model: 'prod-gpt4o' }] }] });
  try {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Tell me a story' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    assert.ok(text.length > 0);
    assert.ok(usage && usage.completion_tokens > 0);
    assert.equal(seen.at(-1)?.path, '/openai/deployments/prod-gpt4o/chat/completions');
    const models = await client.models.list();
    const listed = models.data.find((model) => model.id === 'gpt-4o') as (OpenAI.Model & { context_window?: number }) | undefined;
    assert.equal(listed?.context_window, 128_000, 'the catalogue adds the context window');
  } finally {
    await gateway.close();
  }
});
