// Fastify's per-request logger (`request.log`) is made into a pino child only when something logs through it: the
// gateway writes its request lines itself, and a pino child per request cost ~2 µs of every request's CPU.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Logger } from 'pino';
import { postJson, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gateway: TestGateway;
let childrenMade = 0;

before(async () => {
  gateway = await startTestGateway(
    {},
    {
      beforeListen: (built) => {
        const logger = built.logger as Logger;
        const child = logger.child.bind(logger);
        logger.child = ((...args: Parameters<Logger['child']>) => {
          childrenMade++;
          return child(...args);
        }) as Logger['child'];
        // A route that fails the way a bug would: the error handler logs it through request.log.
        built.app.get('/test/broken', () => {
          throw new Error('broken on purpose');
        });
      },
    },
  );
});

after(() => gateway.close());

test('served requests make no child logger', async () => {
  const before = childrenMade;
  for (let index = 0; index < 5; index++) {
    const response = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'sim-fast', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(response.status, 200);
  }
  const missing = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(missing.status, 404);
  assert.equal(childrenMade - before, 0);
  assert.equal(gateway.logs.filter((line) => line.includes('"msg":"request"')).length >= 6, true, 'the request lines are still written');
});

test('a line logged through request.log carries the request id, as a pino child would', async () => {
  const before = childrenMade;
  const response = await fetch(`${gateway.url}/test/broken`, { headers: { 'x-request-id': 'broken-1' } });
  assert.equal(response.status, 500);
  const body = (await response.json()) as { error: { code: string } };
  assert.equal(body.error.code, 'BW_ERR_INTERNAL');
  assert.equal(childrenMade - before, 1, 'the child is made for the line');
  const line = gateway.logs.map((raw) => JSON.parse(raw) as Record<string, unknown>).find((entry) => entry.msg === 'internal error');
  assert.ok(line, 'the internal error is logged');
  assert.equal(line.reqId, 'broken-1');
  assert.equal(line.request_id, 'broken-1');
  assert.equal(line.level, 50);
  assert.match(String((line.err as { message?: string } | undefined)?.message), /broken on purpose/);
});
