// The simulator's Anthropic and Gemini wire formats on the wire itself (no adapter in between): routes, event
// order and framing, error shapes, validation, and that faults and latency apply as they do to the OpenAI format.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseFaultSpec, startSimServer, type SimServer } from '../../src/sim/index.js';
import { post } from './sim-test-helpers.js';

let sim: SimServer;

before(async () => {
  sim = await startSimServer({ name: 'wires' });
});
after(() => sim.close());

const messagesBody = (extra: Record<string, unknown> = {}) => ({ model: 'claude-sim', max_tokens: 100, messages: [{ role: 'user', content: 'Hello there' }], ...extra });
const geminiBody = { contents: [{ role: 'user', parts: [{ text: 'Hello there' }] }] };

/** Splits an SSE body into events, keeping each event's name (Anthropic names them; Gemini does not). */
function events(body: string): Array<{ event: string | undefined; data: Record<string, unknown> }> {
  return body
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split(/\r?\n/);
      const event = lines.find((line) => line.startsWith('event: '))?.slice('event: '.length);
      const data = lines.find((line) => line.startsWith('data: '))?.slice('data: '.length) ?? '{}';
      return { event, data: JSON.parse(data) as Record<string, unknown> };
    });
}

describe('Anthropic Messages wire (/v1/messages)', () => {
  test('a Message with text content, end_turn and usage', async () => {
    const response = await post(sim, '/v1/messages', messagesBody());
    assert.equal(response.status, 200);
    const message = (await response.json()) as { type: string; role: string; content: Array<{ type: string; text: string }>; stop_reason: string; usage: Record<string, number> };
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.content[0]?.type, 'text');
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.usage.input_tokens, 6);
    assert.equal(message.usage.output_tokens, message.content[0]?.text.split(' ').length);
  });

  test('the documented event order, each event named as its data type', async () => {
    const response = await post(sim, '/v1/messages', messagesBody({ stream: true }));
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    const list = events(await response.text());
    for (const item of list) assert.equal(item.event, item.data.type);
    const types = list.map((item) => item.data.type);
    assert.deepEqual(types.slice(0, 3), ['message_start', 'content_block_start', 'ping']);
    assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    assert.ok(types.slice(3, -3).every((type) => type === 'content_block_delta'));
  });

  test('max_tokens is required, as Anthropic requires it; errors come in Anthropic’s shape', async () => {
    const response = await post(sim, '/v1/messages', { model: 'claude-sim', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
  });

  test('scripted faults answer in Anthropic’s shape: 529 overloaded_error, 429 with retry-after, context overflow by message', async () => {
    const overloaded = await post(sim, '/v1/messages', messagesBody(), { 'x-sim-fault': 'status=529' });
    assert.equal(overloaded.status, 529);
    assert.equal(((await overloaded.json()) as { error: { type: string } }).error.type, 'overloaded_error');
    const limited = await post(sim, '/v1/messages', messagesBody(), { 'x-sim-fault': 'status=429;retry-after=3' });
    assert.equal(limited.headers.get('retry-after'), '3');
    assert.equal(((await limited.json()) as { error: { type: string } }).error.type, 'rate_limit_error');
    const tooLong = await post(sim, '/v1/messages', messagesBody(), { 'x-sim-fault': 'status=400;code=context_length_exceeded' });
    assert.match(((await tooLong.json()) as { error: { message: string } }).error.message, /^prompt is too long/);
  });

  test('block=output ends with stop_reason refusal; tool calls stream as tool_use blocks with input_json_delta', async () => {
    const refused = (await (await post(sim, '/v1/messages', messagesBody(), { 'x-sim-fault': 'block=output' })).json()) as { stop_reason: string };
    assert.equal(refused.stop_reason, 'refusal');
    const tools = [{ name: 'lookup', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }];
    const response = await post(sim, '/v1/messages', messagesBody({ stream: true, tools, messages: [{ role: 'user', content: 'call a tool' }] }));
    const list = events(await response.text());
    const start = list.find((item) => item.data.type === 'content_block_start');
    assert.equal((start?.data.content_block as { type: string }).type, 'tool_use');
    const pieces = list.filter((item) => (item.data.delta as { type?: string } | undefined)?.type === 'input_json_delta').map((item) => (item.data.delta as { partial_json: string }).partial_json);
    assert.ok(pieces.length >= 2);
    assert.equal(typeof (JSON.parse(pieces.join('')) as { q: unknown }).q, 'string');
    assert.equal((list.find((item) => item.data.type === 'message_delta')?.data.delta as { stop_reason: string }).stop_reason, 'tool_use');
  });

  test('per-token latency paces the text deltas', async () => {
    const started = performance.now();
    const response = await post(sim, '/v1/messages', messagesBody({ stream: true, max_tokens: 5 }), { 'x-sim-latency': 'token=15' });
    await response.text();
    // Five deltas at 15 ms each: the stream cannot finish sooner (a lower bound only; no upper bound is asserted).
    assert.ok(performance.now() - started >= 5 * 15 - 5);
  });
});

describe('Gemini wire (/v1beta/models/{model}:method)', () => {
  test('generateContent: candidates, finishReason STOP, usageMetadata', async () => {
    const response = await post(sim, '/v1beta/models/gemini-sim:generateContent', geminiBody);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { candidates: Array<{ content: { role: string; parts: Array<{ text: string }> }; finishReason: string }>; usageMetadata: Record<string, number>; modelVersion: string };
    assert.equal(body.candidates[0]?.content.role, 'model');
    assert.equal(body.candidates[0]?.finishReason, 'STOP');
    assert.equal(body.modelVersion, 'gemini-sim');
    const metadata = body.usageMetadata;
    assert.equal(metadata.totalTokenCount, (metadata.promptTokenCount ?? 0) + (metadata.candidatesTokenCount ?? 0));
  });

  test('streamGenerateContent?alt=sse: CRLF-framed events, the finish reason and full usage in the last one', async () => {
    const response = await post(sim, '/v1beta/models/gemini-sim:streamGenerateContent?alt=sse', geminiBody);
    const text = await response.text();
    assert.ok(text.includes('\r\n\r\n'));
    const list = events(text);
    const last = list.at(-1)?.data as { candidates: Array<{ finishReason?: string }>; usageMetadata: { candidatesTokenCount?: number } };
    assert.equal(last.candidates[0]?.finishReason, 'STOP');
    assert.equal(last.usageMetadata.candidatesTokenCount, list.length - 1);
    const plain = await post(sim, '/v1beta/models/gemini-sim:streamGenerateContent', geminiBody);
    assert.equal(plain.status, 400, 'only the SSE form is simulated');
  });

  test('errors in Google’s shape: status names, unknown methods, block=prompt as promptFeedback', async () => {
    const limited = await post(sim, '/v1beta/models/gemini-sim:generateContent', geminiBody, { 'x-sim-fault': 'status=429' });
    assert.deepEqual(((await limited.json()) as { error: { code: number; status: string } }).error.status, 'RESOURCE_EXHAUSTED');
    const unknown = await post(sim, '/v1beta/models/gemini-sim:countTokens', geminiBody);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { status: string } }).error.status, 'NOT_FOUND');
    const blocked = (await (await post(sim, '/v1beta/models/gemini-sim:generateContent', geminiBody, { 'x-sim-fault': 'block=prompt' })).json()) as { candidates?: unknown; promptFeedback: { blockReason: string } };
    assert.equal(blocked.candidates, undefined);
    assert.equal(blocked.promptFeedback.blockReason, 'SAFETY');
  });

  test('batchEmbedContents: one vector per request, of the asked dimensionality', async () => {
    const response = await post(sim, '/v1beta/models/embed-sim:batchEmbedContents', {
      requests: [
        { model: 'models/embed-sim', content: { parts: [{ text: 'harbor walls' }] }, outputDimensionality: 32 },
        { model: 'models/embed-sim', content: { parts: [{ text: 'quiet water' }] }, outputDimensionality: 32 },
      ],
    });
    const body = (await response.json()) as { embeddings: Array<{ values: number[] }> };
    assert.equal(body.embeddings.length, 2);
    assert.equal(body.embeddings[0]?.values.length, 32);
  });
});

test('the block fault parses, and is one action among the others', () => {
  assert.deepEqual(parseFaultSpec('block=output;times=1'), { block: 'output', times: 1 });
  assert.throws(() => parseFaultSpec('block=everything'), /"output" or "prompt"/);
  assert.throws(() => parseFaultSpec('block=prompt;status=500'), /combines/);
});
