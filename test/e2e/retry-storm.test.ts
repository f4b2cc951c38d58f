// With every upstream failing, the gateway must not multiply the load: attempts per client request stay ≤ 1.25.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestGateway } from '../helpers/gateway.js';

async function storm(reliability: Record<string, unknown>, requests: number, concurrency: number) {
  const server = await startTestGateway({
    reliability,
    providers: [
      { name: 'primary', type: 'sim', models: [], faults: ['status=503'] },
      { name: 'backup', type: 'sim', models: [], faults: ['status=502'] },
    ],
    routes: [{ model: 'chat', candidates: [{ provider: 'primary', model: 'sim-fast' }, { provider: 'backup', model: 'sim-fast' }] }],
  });
  try {
    let sent = 0;
    const statuses: number[] = [];
    const worker = async () => {
      while (sent < requests) {
        sent++;
        const response = await fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'storm' }] }),
        });
        await response.arrayBuffer();
        statuses.push(response.status);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const attempts = server.sim('primary').stats().chat + server.sim('backup').stats().chat;
    return { attempts, statuses, ratio: attempts / requests };
  } finally {
    await server.close();
  }
}

test('breakers and the retry budget together: attempts per request ≤ 1.25, every answer a fast 503', async () => {
  const result = await storm({}, 200, 20);
  assert.ok(result.statuses.every((status) => status === 503), 'clients get 503 with Retry-After, never a hang');
  assert.ok(result.ratio <= 1.25, `${result.attempts} upstream attempts for 200 requests`);
});

test('the retry budget alone (breakers that never open) still bounds attempts per request', async () => {
  const result = await storm({ max_attempts: 3, breaker: { consecutive_failures: 1_000_000, min_calls: 1_000_000 }, retry_budget: { ratio: 0.2, min_concurrent: 1 } }, 200, 20);
  assert.ok(result.ratio <= 1.25, `${result.attempts} upstream attempts for 200 requests (ratio ${result.ratio.toFixed(2)})`);
  assert.ok(result.attempts >= 200, 'every request still made its first attempt');
});
