// Bedrock Converse translation against fixtures built from AWS's documentation: request, response, event stream, errors, embeddings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../src/core/errors.js';
import type { ChatRequest, StreamChunk } from '../../src/core/types.js';
import { embeddingsFamily, toEmbeddingsResponse } from '../../src/providers/bedrock/embeddings.js';
import { mapBedrockError } from '../../src/providers/bedrock/errors.js';
import { decodeEventStream, EventStreamFramingError } from '../../src/providers/bedrock/event-stream-decoder.js';
import { converseRequest } from '../../src/providers/bedrock/request.js';
import { toChatCompletion } from '../../src/providers/bedrock/response.js';
import { translateConverseStream } from '../../src/providers/bedrock/stream.js';
import type { ConverseResponse } from '../../src/providers/bedrock/wire-types.js';
import { encodeEvent, encodeEvents, encodeException, inPieces, readFixture, type FixtureEvent } from './bedrock-event-stream.js';

const identity = { id: 'chatcmpl-test', created: 1_700_000_000, model: 'claude-bedrock' };

async function collect(stream: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const chunks: StreamChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

test('request: system, image, parallel tool calls, merged tool results, tools, tool_choice and inference settings', () => {
  const expected = readFixture<{ body: unknown }>('converse-tool-use.request.json').body;
  const request: ChatRequest = {
    model: 'claude-bedrock',
    max_tokens: 512,
    temperature: 0.5,
    top_p: 0.9,
    stop: '\n\nHuman:',
    tool_choice: 'required',
    tools: [
      {
        type: 'function',
        function: {
          name: 'top_song',
          description: 'Get the most popular song played on a radio station.',
          parameters: { type: 'object', properties: { sign: { type: 'string', description: 'The call sign for the radio station for which you want the most popular song. Example calls signs are WZPZ and WKRP.' } }, required: ['sign'] },
        },
      },
    ],
    messages: [
      { role: 'system', content: 'You are a radio DJ assistant.' },
      { role: 'user', content: [{ type: 'text', text: 'What is the most popular song on WZPZ?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', type: 'function', function: { name: 'top_song', arguments: '{"sign":"WZPZ"}' } },
          { id: 'tooluse_h0QsmUNoQ8yEmSzH6yQkAw', type: 'function', function: { name: 'top_song', arguments: '{"sign":"WKRP"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', content: '{"song": "Elemental Hotel", "artist": "8 Storey Hike"}' },
      { role: 'tool', tool_call_id: 'tooluse_h0QsmUNoQ8yEmSzH6yQkAw', content: '{"song": "Never Gonna Give You Up", "artist": "Rick Astley"}' },
    ],
  };
  assert.deepEqual(converseRequest(request), expected);
});

test('request: what Converse cannot take is refused with a 400 naming the field', () => {
  const base: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  const refuses = (request: ChatRequest, param: string) =>
    assert.throws(() => converseRequest(request), (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === param);
  refuses({ ...base, n: 2 }, 'n');
  refuses({ ...base, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }, 'messages[0].content[0].image_url.url');
  refuses({ ...base, messages: [{ role: 'user', content: [{ type: 'input_audio' }] }] }, 'messages[0].content[0].type');
  // tool_choice none with no tool history: the tools are left out altogether.
  assert.equal(converseRequest({ ...base, tools: [{ type: 'function', function: { name: 't' } }], tool_choice: 'none' }).toolConfig, undefined);
  assert.deepEqual(converseRequest({ ...base, tools: [{ type: 'function', function: { name: 't' } }], tool_choice: { type: 'function', function: { name: 't' } } }).toolConfig?.toolChoice, { tool: { name: 't' } });
});

test('request: base64 data URLs become image blocks, the format from the media type', () => {
  const withImage = (url: string): ChatRequest => ({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url, detail: 'high' } }] }] });
  const cases: Array<[string, string]> = [
    ['image/png', 'png'],
    ['image/jpeg', 'jpeg'],
    ['image/jpg', 'jpeg'],
    ['IMAGE/GIF', 'gif'],
    ['image/webp', 'webp'],
  ];
  for (const [mediaType, format] of cases) {
    const message = converseRequest(withImage(`data:${mediaType};base64,R0lGODlhAQABAAAAACw=`)).messages[0];
    assert.deepEqual(message?.content[1], { image: { format, source: { bytes: 'R0lGODlhAQABAAAAACw=' } } }, mediaType);
  }
  // Media-type parameters are allowed; line breaks inside the base64 are not bytes.
  assert.deepEqual(converseRequest(withImage('data:image/png;name=cat.png;base64,iVBO\nRw0K')).messages[0]?.content[1], { image: { format: 'png', source: { bytes: 'iVBORw0K' } } });
});

test('request: image URLs, other image types and broken data URLs are a 400 naming the field; nothing is fetched', () => {
  const refuses = (url: string, message: RegExp) =>
    assert.throws(
      () => converseRequest({ model: 'm', messages: [{ role: 'user', content: 'look' }, { role: 'assistant', content: 'ok' }, { role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] }),
      (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === 'messages[2].content[0].image_url.url' && message.test(error.message),
    );
  refuses('https://upload.wikimedia.org/cat.jpg', /cannot fetch image URLs.*data: URL/);
  refuses('http://example.com/cat.png', /cannot fetch image URLs/);
  refuses('data:image/svg+xml;base64,PHN2Zz4=', /image\/svg\+xml is not supported.*png, jpeg, gif or webp/);
  refuses('data:image/png,%89PNG', /base64 data: URL/);
  refuses('data:image/png;base64,not base64!', /base64 image bytes/);
  refuses('file:///etc/passwd', /inline only/);
});

test('response: documented text answer → content, stop, usage equal to Bedrock numbers', () => {
  const body = readFixture<{ body: ConverseResponse }>('converse-text.response.json').body;
  const completion = toChatCompletion('bedrock', body, 'claude-bedrock', 'abc-123');
  assert.equal(completion.id, 'chatcmpl-abc-123');
  assert.equal(completion.model, 'claude-bedrock');
  assert.match(String(completion.choices[0]?.message.content), /^Here is a list of 3 pop songs/);
  assert.equal(completion.choices[0]?.finish_reason, 'stop');
  assert.deepEqual(completion.usage, { prompt_tokens: 125, completion_tokens: 60, total_tokens: 185 });
});

test('response: documented tool use → tool_calls with JSON arguments, finish_reason tool_calls', () => {
  const body = readFixture<{ body: ConverseResponse }>('converse-tool-use.response.json').body;
  const completion = toChatCompletion('bedrock', body, 'claude-bedrock', undefined);
  const message = completion.choices[0]?.message;
  assert.equal(message?.content, null);
  assert.deepEqual(message?.tool_calls, [{ id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', type: 'function', function: { name: 'top_song', arguments: '{"sign":"WZPZ"}' } }]);
  assert.equal(completion.choices[0]?.finish_reason, 'tool_calls');
  assert.equal(completion.usage?.prompt_tokens, 375);
});

test('response: every stop reason maps, cache tokens count into prompt_tokens', () => {
  const text = readFixture<{ body: ConverseResponse }>('converse-text.response.json').body;
  const expected = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool_calls', content_filtered: 'content_filter', guardrail_intervened: 'content_filter' };
  for (const [stopReason, finish] of Object.entries(expected)) {
    assert.equal(toChatCompletion('bedrock', { ...text, stopReason }, 'm', 'r').choices[0]?.finish_reason, finish, stopReason);
  }
  const cached = toChatCompletion('bedrock', { ...text, usage: { inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 100, cacheWriteInputTokens: 20 } }, 'm', 'r');
  assert.equal(cached.usage?.prompt_tokens, 130);
  assert.equal(cached.usage?.prompt_tokens_details?.cached_tokens, 100);
  assert.equal(cached.usage?.total_tokens, 135);
});

test('stream: encoded event stream cut into 7-byte pieces → text, two tool calls with indices 0 and 1, finish, then usage', async () => {
  const { events } = readFixture<{ events: FixtureEvent[] }>('converse-stream-tool-use.events.json');
  const chunks = await collect(translateConverseStream('bedrock', decodeEventStream(inPieces(encodeEvents(events), 7), 1 << 20), identity));
  assert.equal(chunks[0]?.chunk.choices[0]?.delta.role, 'assistant');
  let text = '';
  const calls = new Map<number, { id?: string; name?: string; arguments: string }>();
  for (const { chunk } of chunks) {
    const delta = chunk.choices[0]?.delta;
    text += delta?.content ?? '';
    for (const call of delta?.tool_calls ?? []) {
      const entry = calls.get(call.index) ?? { arguments: '' };
      if (call.id) entry.id = call.id;
      if (call.function?.name) entry.name = call.function.name;
      entry.arguments += call.function?.arguments ?? '';
      calls.set(call.index, entry);
    }
  }
  assert.equal(text, "I'll look up the top songs on both stations.");
  assert.deepEqual([...calls.keys()], [0, 1]);
  assert.deepEqual(calls.get(0), { id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'top_song', arguments: '{"sign": "WZPZ"}' });
  assert.deepEqual(calls.get(1), { id: 'tooluse_h0QsmUNoQ8yEmSzH6yQkAw', name: 'top_song', arguments: '{"sign": "WKRP"}' });
  const finish = chunks.at(-2)?.chunk;
  assert.equal(finish?.choices[0]?.finish_reason, 'tool_calls');
  const last = chunks.at(-1)?.chunk;
  assert.deepEqual(last?.choices, []);
  assert.deepEqual(last?.usage, { prompt_tokens: 375, completion_tokens: 94, total_tokens: 469 });
});

test('stream: an exception event becomes the mapped error; a stream without messageStop is a cut', async () => {
  const start: FixtureEvent = { type: 'messageStart', payload: { role: 'assistant' } };
  const throttled = Buffer.concat([encodeEvent(start), encodeException('throttlingException', 'Too many tokens, please wait before trying again.')]);
  await assert.rejects(collect(translateConverseStream('bedrock', decodeEventStream(inPieces(throttled, 64), 1 << 20), identity)), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'BW_ERR_UPSTREAM_RATE_LIMITED');
    assert.equal(error.retryable, true);
    return true;
  });
  await assert.rejects(
    collect(translateConverseStream('bedrock', decodeEventStream(inPieces(encodeEvent(start), 64), 1 << 20), identity)),
    (error: unknown) => error instanceof GatewayError && error.upstreamKind === 'stream_cut',
  );
});

test('framing: a truncated or corrupted message is detected (CRC checked by the codec)', async () => {
  const bytes = encodeEvent({ type: 'messageStart', payload: { role: 'assistant' } });
  const drain = async (input: Uint8Array) => {
    for await (const _message of decodeEventStream(inPieces(input, 5), 1 << 20)) void _message;
  };
  await assert.rejects(drain(bytes.subarray(0, bytes.length - 3)), (error: unknown) => error instanceof EventStreamFramingError && error.truncated);
  const corrupted = Buffer.from(bytes);
  corrupted[corrupted.length - 6] = (corrupted[corrupted.length - 6] ?? 0) ^ 0xff;
  await assert.rejects(drain(corrupted), (error: unknown) => error instanceof EventStreamFramingError && !error.truncated);
  const huge = Buffer.from(bytes);
  huge.writeUInt32BE(64 << 20, 0);
  await assert.rejects(drain(huge), /out of bounds/);
});

test('errors: documented Bedrock exceptions map with the right status, code and retryable', () => {
  const error = (status: number, type: string, message: string) => mapBedrockError('bedrock', status, { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` }, JSON.stringify({ message }));
  const throttled = error(429, 'ThrottlingException', 'Too many requests, please wait before trying again.');
  assert.equal(throttled.status, 429);
  assert.equal(throttled.retryable, true);
  const notReady = error(429, 'ModelNotReadyException', 'Model is not ready');
  assert.equal(notReady.code, 'BW_ERR_UPSTREAM_UNAVAILABLE');
  assert.equal(notReady.status, 503);
  assert.equal(notReady.retryable, true);
  const unavailable = error(503, 'ServiceUnavailableException', 'Service unavailable');
  assert.equal(unavailable.status, 503);
  assert.equal(unavailable.retryable, true);
  const tooLong = error(400, 'ValidationException', 'Input is too long for requested model.');
  assert.equal(tooLong.status, 400);
  assert.equal(tooLong.publicCode, 'context_length_exceeded');
  assert.equal(tooLong.retryable, false);
  const invalid = error(400, 'ValidationException', 'temperature: range: 0..1');
  assert.equal(invalid.publicCode, 'invalid_request');
  const denied = error(403, 'AccessDeniedException', "You don't have access to the model with the specified model ID.");
  assert.equal(denied.code, 'BW_ERR_UPSTREAM_AUTH');
  assert.equal(denied.retryable, false);
  const missing = error(404, 'ResourceNotFoundException', 'Could not resolve the foundation model from the provided model identifier.');
  assert.equal(missing.status, 404);
  assert.equal(missing.publicCode, 'model_not_found');
  assert.equal(mapBedrockError('bedrock', 500, {}, 'not json').code, 'BW_ERR_UPSTREAM_SERVER_ERROR');
});

test('embeddings: Titan one text per call, Cohere in batches of 96, base64 like OpenAI', () => {
  const titan = embeddingsFamily('amazon.titan-embed-text-v2:0');
  const calls = titan.calls(['a', 'b'], { model: 'x', input: ['a', 'b'], dimensions: 256 });
  assert.deepEqual(calls.map((call) => JSON.parse(call.body) as unknown), [{ inputText: 'a', dimensions: 256 }, { inputText: 'b', dimensions: 256 }]);
  // Titan's documented response: { embedding, inputTextTokenCount }.
  assert.deepEqual(titan.read({ embedding: [0.1, 0.2], inputTextTokenCount: 3 }, {}, 1), { vectors: [[0.1, 0.2]], tokens: 3 });
  const cohere = embeddingsFamily('us.cohere.embed-english-v3');
  const texts = Array.from({ length: 100 }, (_value, index) => `t${index}`);
  const batches = cohere.calls(texts, { model: 'x', input: texts });
  assert.deepEqual(batches.map((call) => call.indices.length), [96, 4]);
  assert.equal((JSON.parse(batches[0]?.body ?? '{}') as { input_type?: string }).input_type, 'search_document');
  assert.deepEqual(cohere.read({ embeddings: [[1], [2]], id: 'x', response_type: 'embeddings_floats', texts: ['a', 'b'] }, { 'x-amzn-bedrock-input-token-count': '7' }, 2), { vectors: [[1], [2]], tokens: 7 });
  const response = toEmbeddingsResponse({ model: 'embed', input: 'a', encoding_format: 'base64' }, [[0.5, -1]], 2);
  const decoded = new Float32Array(Uint8Array.from(Buffer.from(String(response.data[0]?.embedding), 'base64')).buffer);
  assert.deepEqual([...decoded], [0.5, -1]);
  assert.throws(() => embeddingsFamily('anthropic.claude-3-haiku-20240307-v1:0'), (error: unknown) => error instanceof GatewayError && error.status === 400);
});
