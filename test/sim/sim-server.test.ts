// The simulator's normal behaviour: deterministic chat (JSON and SSE), tool calls, embeddings, models, errors, latency, stats.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChatCompletion, ChatCompletionChunk, EmbeddingsResponse } from '../../src/core/types.js';
import { startSimServer, type SimServer } from '../../src/sim/index.js';
import { chatBody, chatPath, post, readEvents } from './sim-test-helpers.js';

let sim: SimServer;

before(async () => {
  sim = await startSimServer({ name: 'primary' });
});
after(() => sim.close());

async function complete(body: unknown): Promise<ChatCompletion> {
  const response = await post(sim, chatPath, body);
  assert.equal(response.status, 200);
  return (await response.json()) as ChatCompletion;
}

async function streamChunks(body: Record<string, unknown>): Promise<{ chunks: ChatCompletionChunk[]; done: boolean; response: Response }> {
  const response = await post(sim, chatPath, { ...body, stream: true });
  assert.equal(response.status, 200);
  const { events, error } = await readEvents(response);
  assert.equal(error, undefined);
  const done = events.at(-1) === '[DONE]';
  const chunks = events.filter((event) => event !== '[DONE]').map((event) => JSON.parse(event) as ChatCompletionChunk);
  return { chunks, done, response };
}

const searchTool = {
  type: 'function',
  function: { name: 'search_docs', parameters: { type: 'object', properties: { query: { type: 'string' }, limit: { type: 'integer' } } } },
};

describe('chat completions', () => {
  it('is deterministic: the same request gives the same words, a different one different words', async () => {
    const first = await complete(chatBody('tell me about harbors'));
    const second = await complete(chatBody('tell me about harbors'));
    const other = await complete(chatBody('tell me about ships'));
    assert.equal(first.choices[0]?.message.content, second.choices[0]?.message.content);
    assert.notEqual(first.choices[0]?.message.content, other.choices[0]?.message.content);
    assert.notEqual(first.id, second.id, 'ids still tell two upstream calls apart');
  });

  it('returns a full chat.completion object', async () => {
    const response = await post(sim, chatPath, chatBody('hello there friend', { model: 'sim-smart' }));
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(response.headers.get('x-sim-instance'), 'primary');
    const completion = (await response.json()) as ChatCompletion;
    assert.match(completion.id, /^chatcmpl-sim-[0-9a-f]+$/);
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.model, 'sim-smart');
    assert.equal(completion.system_fingerprint, 'sim');
    assert.equal(typeof completion.created, 'number');
    const choice = completion.choices[0];
    assert.equal(choice?.message.role, 'assistant');
    assert.equal(choice?.finish_reason, 'stop');
    const words = String(choice?.message.content).split(' ');
    assert.ok(words.length >= 8 && words.length <= 40, `${words.length} words`);
    // prompt_tokens: 3 words + 4 per message.
    assert.deepEqual(completion.usage, { prompt_tokens: 7, completion_tokens: words.length, total_tokens: 7 + words.length });
  });

  it('stops at max_tokens / max_completion_tokens with finish_reason length', async () => {
    const capped = await complete(chatBody('count to many', { max_tokens: 3 }));
    assert.equal(capped.choices[0]?.finish_reason, 'length');
    assert.equal(String(capped.choices[0]?.message.content).split(' ').length, 3);
    assert.equal(capped.usage?.completion_tokens, 3);
    const cappedNew = await complete(chatBody('count to many', { max_completion_tokens: 2 }));
    assert.equal(cappedNew.usage?.completion_tokens, 2);
    assert.equal(cappedNew.choices[0]?.finish_reason, 'length');
    const roomy = await complete(chatBody('count to many', { max_tokens: 1000 }));
    assert.equal(roomy.choices[0]?.finish_reason, 'stop');
  });

  it('streams role, one chunk per token, finish, then [DONE]; the text matches the JSON response', async () => {
    const body = chatBody('stream this please');
    const { chunks, done, response } = await streamChunks(body);
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    assert.ok(done, 'ends with [DONE]');
    assert.deepEqual(chunks[0]?.choices[0]?.delta, { role: 'assistant', content: '' });
    const finish = chunks.at(-1);
    assert.deepEqual(finish?.choices[0]?.delta, {});
    assert.equal(finish?.choices[0]?.finish_reason, 'stop');
    const tokens = chunks.slice(1, -1);
    assert.ok(tokens.every((chunk) => chunk.choices[0]?.finish_reason === null && typeof chunk.choices[0]?.delta.content === 'string'));
    assert.ok(tokens.slice(1).every((chunk) => String(chunk.choices[0]?.delta.content).startsWith(' ')));
    assert.ok(chunks.every((chunk) => chunk.id === chunks[0]?.id && chunk.created === chunks[0]?.created && chunk.model === 'sim-fast'));
    assert.ok(chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && !('usage' in chunk)), 'no usage without include_usage');
    const text = tokens.map((chunk) => chunk.choices[0]?.delta.content).join('');
    const completion = await complete(body);
    assert.equal(text, completion.choices[0]?.message.content);
    assert.equal(tokens.length, completion.usage?.completion_tokens);
  });

  it('adds a usage chunk only with stream_options.include_usage, equal to the non-stream usage', async () => {
    const body = chatBody('usage please', { max_tokens: 5 });
    const { chunks, done } = await streamChunks({ ...body, stream_options: { include_usage: true } });
    assert.ok(done);
    const usageChunk = chunks.at(-1);
    assert.deepEqual(usageChunk?.choices, []);
    const completion = await complete(body);
    assert.deepEqual(usageChunk?.usage, completion.usage);
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'length');
    assert.ok(chunks.slice(0, -1).every((chunk) => chunk.usage === null), 'other chunks carry usage: null, as OpenAI sends');
  });

  it('answers with a tool call when tools are offered and the user asks to call a tool', async () => {
    const body = chatBody('Please CALL A TOOL to search', { tools: [searchTool] });
    const completion = await complete(body);
    const choice = completion.choices[0];
    assert.equal(choice?.finish_reason, 'tool_calls');
    assert.equal(choice?.message.content, null);
    const call = choice?.message.tool_calls?.[0];
    assert.equal(call?.type, 'function');
    assert.equal(call?.function.name, 'search_docs');
    const parsed = JSON.parse(String(call?.function.arguments)) as { query: unknown; limit: unknown };
    assert.equal(typeof parsed.query, 'string');
    assert.equal(typeof parsed.limit, 'number');
    const plain = await complete(chatBody('just chat', { tools: [searchTool] }));
    assert.equal(plain.choices[0]?.finish_reason, 'stop');
  });

  it('streams a tool call in 2–3 argument pieces that reassemble into the same valid JSON', async () => {
    const body = chatBody('call a tool now', { tools: [searchTool] });
    const { chunks, done } = await streamChunks(body);
    assert.ok(done);
    const first = chunks[0]?.choices[0]?.delta;
    assert.equal(first?.role, 'assistant');
    assert.equal(first?.tool_calls?.[0]?.function?.name, 'search_docs');
    assert.equal(first?.tool_calls?.[0]?.index, 0);
    const pieces = chunks.slice(1, -1).map((chunk) => chunk.choices[0]?.delta.tool_calls?.[0]);
    assert.ok(pieces.length >= 2 && pieces.length <= 3, `${pieces.length} pieces`);
    assert.ok(pieces.every((piece) => piece?.index === 0));
    const argumentsText = pieces.map((piece) => piece?.function?.arguments ?? '').join('');
    assert.doesNotThrow(() => JSON.parse(argumentsText));
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'tool_calls');
    const completion = await complete(body);
    assert.equal(argumentsText, completion.choices[0]?.message.tool_calls?.[0]?.function.arguments);
    assert.equal(first?.tool_calls?.[0]?.id, completion.choices[0]?.message.tool_calls?.[0]?.id);
  });
});

describe('embeddings', () => {
  function cosine(left: number[], right: number[]): number {
    return left.reduce((sum, value, index) => sum + value * (right[index] ?? 0), 0);
  }

  it('returns one normalised 256-float vector per input, deterministic and lexically similar', async () => {
    const response = await post(sim, '/v1/embeddings', { model: 'sim-embed', input: ['The cat sat on the mat', 'the cat sat on a rug', 'quantum physics lecture notes'] });
    assert.equal(response.status, 200);
    const body = (await response.json()) as EmbeddingsResponse;
    assert.equal(body.object, 'list');
    assert.equal(body.model, 'sim-embed');
    assert.equal(body.data.length, 3);
    const vectors = body.data.map((item, index) => {
      assert.equal(item.object, 'embedding');
      assert.equal(item.index, index);
      assert.ok(Array.isArray(item.embedding));
      return item.embedding as number[];
    });
    for (const vector of vectors) {
      assert.equal(vector.length, 256);
      assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-5);
    }
    const [cat, rug, physics] = vectors as [number[], number[], number[]];
    assert.ok(cosine(cat, rug) > cosine(cat, physics) + 0.3, 'shared words make texts closer');
    assert.deepEqual(body.usage, { prompt_tokens: 6 + 6 + 4, total_tokens: 16 });
    const again = (await (await post(sim, '/v1/embeddings', { model: 'sim-embed', input: 'The cat sat on the mat' })).json()) as EmbeddingsResponse;
    assert.deepEqual(again.data[0]?.embedding, cat);
  });

  it('returns base64 of the little-endian float32 bytes with encoding_format base64', async () => {
    const input = 'breakwater keeps the harbor calm';
    const floats = (await (await post(sim, '/v1/embeddings', { model: 'sim-embed', input })).json()) as EmbeddingsResponse;
    const encoded = (await (await post(sim, '/v1/embeddings', { model: 'sim-embed', input, encoding_format: 'base64' })).json()) as EmbeddingsResponse;
    const embedding = encoded.data[0]?.embedding;
    assert.equal(typeof embedding, 'string');
    const bytes = Buffer.from(String(embedding), 'base64');
    assert.equal(bytes.length, 256 * 4);
    const decoded = Array.from({ length: 256 }, (_, index) => bytes.readFloatLE(index * 4));
    assert.deepEqual(decoded, floats.data[0]?.embedding);
  });
});

describe('models, errors and health', () => {
  it('lists models in the OpenAI shape', async () => {
    const response = await fetch(`${sim.url}/v1/models`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { object: string; data: Array<{ id: string; object: string; owned_by: string; created: number }> };
    assert.equal(body.object, 'list');
    assert.deepEqual(body.data.map((model) => model.id), ['sim-fast', 'sim-smart', 'sim-embed']);
    assert.ok(body.data.every((model) => model.object === 'model' && model.owned_by === 'breakwater-sim' && typeof model.created === 'number'));
    const custom = await startSimServer({ models: ['only-one'] });
    try {
      const listed = (await (await fetch(`${custom.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
      assert.deepEqual(listed.data.map((model) => model.id), ['only-one']);
    } finally {
      await custom.close();
    }
  });

  async function assertEnvelope(response: Response, status: number, param: string | null): Promise<{ message: string; code: unknown }> {
    assert.equal(response.status, status);
    assert.equal(response.headers.get('content-type'), 'application/json');
    const body = (await response.json()) as { error: { message: string; type: string; param: unknown; code: unknown } };
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.param, param);
    assert.ok(body.error.message.length > 0);
    return body.error;
  }

  it('answers unknown paths with a 404 envelope', async () => {
    await assertEnvelope(await fetch(`${sim.url}/v2/nothing`), 404, null);
    await assertEnvelope(await post(sim, '/v1/files', {}), 404, null);
  });

  it('answers invalid JSON and missing params with 400 envelopes naming the param', async () => {
    const invalid = await assertEnvelope(await post(sim, chatPath, '{"model": "sim-fast",'), 400, null);
    assert.match(invalid.message, /JSON/);
    await assertEnvelope(await post(sim, chatPath, { messages: [{ role: 'user', content: 'hi' }] }), 400, 'model');
    await assertEnvelope(await post(sim, chatPath, { model: 'sim-fast' }), 400, 'messages');
    await assertEnvelope(await post(sim, chatPath, chatBody('hi', { max_tokens: 0 })), 400, 'max_tokens');
    await assertEnvelope(await post(sim, '/v1/embeddings', { model: 'sim-embed' }), 400, 'input');
    const badFault = await assertEnvelope(await post(sim, chatPath, chatBody('hi'), { 'x-sim-fault': 'status=abc' }), 400, null);
    assert.match(badFault.message, /"status" needs a whole number/);
    const badLatency = await assertEnvelope(await post(sim, chatPath, chatBody('hi'), { 'x-sim-latency': 'ttft=soon' }), 400, null);
    assert.match(badLatency.message, /ttft/);
  });

  it('reports health', async () => {
    const response = await fetch(`${sim.url}/health`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });
});

describe('latency and stats', () => {
  it('waits firstTokenMs plus perTokenMs per token, overridable per request by x-sim-latency', async () => {
    const slow = await startSimServer({ latency: { firstTokenMs: 60, perTokenMs: 0 } });
    try {
      let started = performance.now();
      await (await post(slow, chatPath, chatBody('slow please', { max_tokens: 2 }))).json();
      assert.ok(performance.now() - started >= 55, 'configured time to first token');

      started = performance.now();
      await (await post(slow, chatPath, chatBody('fast please', { max_tokens: 2 }), { 'x-sim-latency': 'ttft=0' })).json();
      assert.ok(performance.now() - started < 50, 'header override');

      started = performance.now();
      const response = await post(slow, chatPath, chatBody('per token', { max_tokens: 4, stream: true }), { 'x-sim-latency': 'ttft=10;token=20' });
      const { events, arrivals } = await readEvents(response);
      assert.equal(events.at(-1), '[DONE]');
      assert.ok(performance.now() - started >= 10 + 4 * 20 - 5, 'four token gaps');
      assert.ok((arrivals[4] ?? 0) - (arrivals[0] ?? 0) >= 4 * 20 - 10, 'tokens spread over time');
    } finally {
      await slow.close();
    }
  });

  it('counts requests by endpoint and resets, over HTTP too', async () => {
    const counted = await startSimServer();
    try {
      await (await post(counted, chatPath, chatBody('one'))).text();
      await (await post(counted, '/v1/embeddings', { model: 'sim-embed', input: 'two' })).text();
      await (await fetch(`${counted.url}/v1/models`)).text();
      await (await fetch(`${counted.url}/nowhere`)).text();
      await (await fetch(`${counted.url}/health`)).text();
      const expected = { total: 4, chat: 1, embeddings: 1, models: 1, faulted: 0, aborted: 0, inFlight: 0, completed: 4 };
      assert.deepEqual(counted.stats(), expected);
      assert.deepEqual(await (await fetch(`${counted.url}/sim/stats`)).json(), expected);
      const reset = await fetch(`${counted.url}/sim/reset`, { method: 'POST' });
      assert.equal(reset.status, 200);
      assert.deepEqual(counted.stats(), { total: 0, chat: 0, embeddings: 0, models: 0, faulted: 0, aborted: 0, inFlight: 0, completed: 0 });
    } finally {
      await counted.close();
    }
  });
});
