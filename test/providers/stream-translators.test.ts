// The Anthropic and Gemini stream translators on the edges the fixtures do not reach: streams that stop short,
// unknown events, tool input given whole, bad events, and provider config rules for the new types.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { GatewayError } from '../../src/core/errors.js';
import type { ChatCompletionChunk } from '../../src/core/types.js';
import { AnthropicStreamTranslator } from '../../src/providers/anthropic/stream.js';
import { GeminiStreamTranslator } from '../../src/providers/gemini/stream.js';
import type { StreamTranslator } from '../../src/providers/translated-stream.js';

function feed(translator: StreamTranslator, events: Array<[string | undefined, unknown]>): ChatCompletionChunk[] {
  return events.flatMap(([event, data]) => translator.onEvent({ event, data: JSON.stringify(data), id: undefined }));
}

const messageStart = ['message_start', { type: 'message_start', message: { id: 'msg_1', model: 'claude', usage: { input_tokens: 5, output_tokens: 1 } } }] as [string, unknown];
const isCode = (code: string) => (error: unknown) => error instanceof GatewayError && error.code === code;

test('anthropic: a stream that ends before message_stop is a retryable cut, never a clean end', () => {
  const translator = new AnthropicStreamTranslator('a');
  feed(translator, [messageStart, ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }], ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } }]]);
  assert.throws(() => translator.onEnd(), (error: unknown) => isCode('BW_ERR_UPSTREAM_CONNECTION')(error) && (error as GatewayError).retryable);
});

test('anthropic: unknown events and thinking deltas are ignored; a tool_use input given whole is sent at its block stop', () => {
  const translator = new AnthropicStreamTranslator('a');
  const chunks = feed(translator, [
    messageStart,
    ['some_future_event', { type: 'some_future_event', detail: 1 }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }],
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } } }],
    ['content_block_stop', { type: 'content_block_stop', index: 1 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 7 } }],
    ['message_stop', { type: 'message_stop' }],
  ]);
  assert.deepEqual(chunks[0]?.choices[0]?.delta, { role: 'assistant', content: '' });
  const toolDeltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
  assert.deepEqual(toolDeltas, [
    { index: 0, id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '' } },
    { index: 0, function: { arguments: '{"a":1}' } },
  ]);
  assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'tool_calls');
  assert.deepEqual(chunks.at(-1)?.usage, { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12, prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 } });
  assert.deepEqual(translator.onEnd(), []);
});

test('anthropic: content before message_start and malformed data are bad upstream responses', () => {
  assert.throws(() => feed(new AnthropicStreamTranslator('a'), [['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'x' } }]]), isCode('BW_ERR_UPSTREAM_BAD_RESPONSE'));
  assert.throws(() => new AnthropicStreamTranslator('a').onEvent({ event: 'message_start', data: '{oops', id: undefined }), isCode('BW_ERR_UPSTREAM_BAD_RESPONSE'));
});

test('gemini: a stream with no finish reason stopped short; an error object inside the stream is mapped', () => {
  const translator = new GeminiStreamTranslator('g', 'gemini-2.0-flash');
  feed(translator, [[undefined, { candidates: [{ content: { parts: [{ text: 'Hi' }], role: 'model' } }] }]]);
  assert.throws(() => translator.onEnd(), isCode('BW_ERR_UPSTREAM_CONNECTION'));
  assert.throws(() => feed(new GeminiStreamTranslator('g', 'm'), [[undefined, { error: { code: 503, message: 'overloaded', status: 'UNAVAILABLE' } }]]), isCode('BW_ERR_UPSTREAM_UNAVAILABLE'));
});

test('gemini: thought parts are not answer text; the finish comes at the end with the last usage', () => {
  const translator = new GeminiStreamTranslator('g', 'm');
  const chunks = feed(translator, [
    [undefined, { candidates: [{ content: { parts: [{ text: 'pondering', thought: true }], role: 'model' } }], usageMetadata: { promptTokenCount: 3, totalTokenCount: 3 } }],
    [undefined, { candidates: [{ content: { parts: [{ text: 'Yes.' }], role: 'model' }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, thoughtsTokenCount: 10, totalTokenCount: 15 } }],
  ]);
  const closing = translator.onEnd();
  const text = [...chunks, ...closing].map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
  assert.equal(text, 'Yes.');
  assert.equal(closing[0]?.choices[0]?.finish_reason, 'stop');
  assert.deepEqual(closing[1]?.usage, { prompt_tokens: 3, completion_tokens: 12, total_tokens: 15, completion_tokens_details: { reasoning_tokens: 10 } });
});

test('config: anthropic and gemini need an api_key; wire is for sim providers only', () => {
  assert.throws(() => validateConfig({ providers: [{ name: 'a', type: 'anthropic', models: ['claude'] }] }), /providers\[0\]\.api_key: required/);
  assert.throws(() => validateConfig({ providers: [{ name: 'g', type: 'gemini', models: ['gemini'] }] }), /providers\[0\]\.api_key: required/);
  assert.throws(() => validateConfig({ providers: [{ name: 'o', type: 'openai', api_key: 'k', wire: 'anthropic', models: ['x'] }] }), /wire: applies to type sim only/);
  const config = validateConfig({ providers: [{ name: 's', type: 'sim', wire: 'gemini', models: ['g'] }] });
  assert.equal(config.providers[0]?.wire, 'gemini');
});
