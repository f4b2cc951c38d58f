// Test helper: a gateway with the cache on, where a test header plays authentication (sets the tenant), so tenant
// isolation can be checked over HTTP before virtual keys exist; plus small request/SSE helpers.
import { findContext } from '../../src/server/request-context.js';
import { postJson, sseData, startTestGateway, type TestGateway } from '../helpers/gateway.js';

export const tenantHeader = 'x-test-tenant';

/**
 * A real gateway on a loopback port (the in-process simulator upstream, logs captured) with `cache` as its cache
 * section; `x-test-tenant: T` makes the request come from team T, as virtual-key authentication will.
 */
export async function startCacheGateway(cache: Record<string, unknown>, raw: Record<string, unknown> = {}): Promise<TestGateway> {
  const server = await startTestGateway(
    { ...raw, cache: { enabled: true, ...cache } },
    {
      beforeListen: (gateway) =>
        gateway.app.addHook('onRequest', (request, _reply, done) => {
          const tenant = request.headers[tenantHeader];
          const context = findContext(request);
          if (context && typeof tenant === 'string') context.principal = { keyId: `key-${tenant}`, team: tenant };
          done();
        }),
    },
  );
  await server.gateway.cache?.cache.ready;
  // On a loaded machine the replica-announcement subscriber may still be connecting when `ready` settles.
  for (let waited = 0; server.gateway.cache && !server.gateway.cache.cache.subscribedToReplicas && waited < 15_000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return server;
}

export function chatBody(content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'sim-fast', temperature: 0, messages: [{ role: 'user', content }], ...extra };
}

export async function chat(gateway: TestGateway, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return postJson(`${gateway.url}/v1/chat/completions`, body, headers);
}

/** The text of a streamed answer and its parsed chunks. */
export function streamed(text: string): { content: string; chunks: Array<Record<string, unknown>>; done: boolean } {
  const data = sseData(text);
  const chunks = data.filter((item) => item !== '[DONE]').map((item) => JSON.parse(item) as Record<string, unknown>);
  let content = '';
  for (const chunk of chunks) {
    for (const choice of (chunk.choices as Array<{ delta?: { content?: string | null } }> | undefined) ?? []) content += choice.delta?.content ?? '';
  }
  return { content, chunks, done: data[data.length - 1] === '[DONE]' };
}

export function upstreamChats(gateway: TestGateway): number {
  return gateway.sim().stats().chat;
}
