// The official OpenAI SDK, pointed at Breakwater, works unchanged: chat, streams, models, embeddings, typed errors.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const masterKey = 'test-master-key-0123456789';
let server: TestGateway;
let client: OpenAI;

before(async () => {
  server = await startTestGateway({
    auth: { master_key: masterKey },
    providers: [
      { name: 'sim', type: 'sim', models: ['sim-fast', 'sim-embed'] },
      { name: 'sim-slow', type: 'sim', models: ['sim-slow'], latency: { first_token_ms: 0, per_token_ms: 25 } },
    ],
  });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: masterKey, maxRetries: 0 });
});

after(() => server.close());

test('completes a chat', async () => {
  const completion = await client.chat.completions.create({ model: 'sim-fast', messages: [{ role: 'user', content: 'Say something' }] });
  assert.equal(completion.object, 'chat.completion');
  assert.ok((completion.choices[0]?.message.content ?? '').length > 0);
  assert.ok((completion.usage?.completion_tokens ?? 0) > 0);
  const again = await client.chat.completions.create({ model: 'sim-fast', messages: [{ role: 'user', content: 'Say something' }] });
  assert.equal(again.choices[0]?.message.content, completion.choices[0]?.message.content, 'the simulator is deterministic');
});

test('streams a chat with chunks arriving incrementally, and usage when asked', async () => {
  const stream = await client.chat.completions.create({
    model: 'sim-slow',
    messages: [{ role: 'user', content: 'Tell me a story' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const arrivals: number[] = [];
  let text = '';
  let usage: OpenAI.CompletionUsage | undefined | null;
  for await (const chunk of stream) {
    arrivals.push(performance.now());
    text += chunk.choices[0]?.delta.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(arrivals.length >= 8, `expected many chunks, got ${arrivals.length}`);
  // With 25 ms between tokens upstream, chunks reach the client spread over time, not in one burst at the end.
  const spread = (arrivals.at(-2) ?? 0) - (arrivals[1] ?? 0);
  assert.ok(spread > 100, `chunks arrived within ${spread.toFixed(1)} ms: they were buffered`);
  assert.ok(text.length > 0);
  assert.ok(usage && usage.completion_tokens > 0, 'usage chunk delivered');
  const whole = await client.chat.completions.create({ model: 'sim-slow', messages: [{ role: 'user', content: 'Tell me a story' }] });
  assert.equal(text, whole.choices[0]?.message.content, 'streamed text equals the non-streamed text');
  assert.equal(usage?.completion_tokens, whole.usage?.completion_tokens);
});

test('lists models and retrieves one', async () => {
  const ids: string[] = [];
  for await (const model of client.models.list()) ids.push(model.id);
  assert.deepEqual(ids.sort(), ['sim-embed', 'sim-fast', 'sim-slow']);
  const model = await client.models.retrieve('sim-fast');
  assert.equal(model.owned_by, 'sim');
  await assert.rejects(client.models.retrieve('nope'), OpenAI.NotFoundError);
});

test('creates embeddings', async () => {
  const result = await client.embeddings.create({ model: 'sim-embed', input: ['the cat sat', 'the cat sat on the mat'] });
  assert.equal(result.data.length, 2);
  assert.ok((result.data[0]?.embedding.length ?? 0) > 0);
  assert.ok(result.usage.prompt_tokens > 0);
  // The SDK asks for base64 by default and decodes it: it must round-trip to floats.
  assert.ok(result.data[0]?.embedding.every((value) => Number.isFinite(value)));
});

test('gets typed errors: BadRequestError, AuthenticationError, NotFoundError, RateLimitError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'sim-fast', messages: [] }),
    (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'messages',
  );
  const wrongKey = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'wrong-key', maxRetries: 0 });
  await assert.rejects(wrongKey.chat.completions.create({ model: 'sim-fast', messages: [{ role: 'user', content: 'x' }] }), OpenAI.AuthenticationError);
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
    (error: unknown) => error instanceof OpenAI.NotFoundError && error.code === 'model_not_found',
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'sim-fast', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-sim-fault': 'status=429;retry-after=7' } }),
    (error: unknown) => error instanceof OpenAI.RateLimitError && error.headers.get('retry-after') === '7',
  );
});
