// The /v1/messages front: Anthropic request → canonical, canonical result → Anthropic message, chunks → Anthropic events, errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../src/core/errors.js';
import type { ChatCompletion, ChatCompletionChunk } from '../../src/core/types.js';
import { anthropicErrorBody } from '../../src/frontends/anthropic/errors.js';
import { translateAnthropicRequest } from '../../src/frontends/anthropic/request.js';
import { toAnthropicMessage } from '../../src/frontends/anthropic/response.js';
import { AnthropicStreamTranslator, encodeAnthropicEvent } from '../../src/frontends/anthropic/stream.js';

const facts = { model: 'claude-front', stopSequences: ['STOP'] };

test('request: system blocks, images, tool use and tool results, tools, tool_choice, stop sequences, user id', () => {
  const { request } = translateAnthropicRequest({
    model: 'claude-front',
    max_tokens: 256,
    system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'Answer in French.' }],
    temperature: 0.3,
    top_p: 0.8,
    top_k: 40,
    stop_sequences: ['STOP'],
    metadata: { user_id: 'user-42' },
    tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    tool_choice: { type: 'any', disable_parallel_tool_use: true },
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Look:' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'hm', signature: 's' }, { type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '18C' }] }, { type: 'text', text: 'And tomorrow?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: 'no data', is_error: true }] },
    ],
  });
  assert.deepEqual(request, {
    model: 'claude-front',
    max_tokens: 256,
    temperature: 0.3,
    top_p: 0.8,
    stop: ['STOP'],
    user: 'user-42',
    tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    tool_choice: 'required',
    parallel_tool_calls: false,
    messages: [
      { role: 'system', content: 'You are terse.\nAnswer in French.' },
      { role: 'user', content: [{ type: 'text', text: 'Look:' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
      { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
      { role: 'user', content: 'And tomorrow?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: no data' },
    ],
  });
});

test('request: streaming asks for usage; tool_choice tool, none and auto', () => {
  const base = { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 't', input_schema: { type: 'object' } }] };
  const streamed = translateAnthropicRequest({ ...base, stream: true }).request;
  assert.equal(streamed.stream, true);
  assert.deepEqual(streamed.stream_options, { include_usage: true });
  assert.deepEqual(translateAnthropicRequest({ ...base, tool_choice: { type: 'tool', name: 't' } }).request.tool_choice, { type: 'function', function: { name: 't' } });
  assert.equal(translateAnthropicRequest({ ...base, tool_choice: { type: 'none' } }).request.tool_choice, 'none');
  assert.equal(translateAnthropicRequest({ ...base, tool_choice: { type: 'auto' } }).request.tool_choice, 'auto');
  const withUrl = translateAnthropicRequest({ ...base, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] }] }).request;
  assert.deepEqual(withUrl.messages[0]?.content, [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }]);
});

test('request: what the Messages API refuses is a 400 naming the field', () => {
  const refuses = (body: unknown, param: string) =>
    assert.throws(() => translateAnthropicRequest(body), (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === param, param);
  const ok = { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] };
  refuses({ ...ok, max_tokens: undefined }, 'max_tokens');
  refuses({ ...ok, max_tokens: 0 }, 'max_tokens');
  refuses({ ...ok, model: undefined }, 'model');
  refuses({ ...ok, messages: [] }, 'messages');
  refuses({ ...ok, messages: [{ role: 'system', content: 'x' }] }, 'messages.0.role');
  refuses({ ...ok, temperature: 1.5 }, 'temperature');
  refuses({ ...ok, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools.0.type');
  refuses({ ...ok, tools: [{ name: 'x' }] }, 'tools.0.input_schema');
  refuses({ ...ok, tool_choice: { type: 'sometimes' } }, 'tool_choice.type');
  refuses({ ...ok, messages: [{ role: 'user', content: [{ type: 'audio' }] }] }, 'messages.0.content.0.type');
  refuses({ ...ok, messages: [{ role: 'user', content: [{ type: 'tool_result' }] }] }, 'messages.0.content.0.tool_use_id');
  refuses('not an object', 'body');
});

function completion(message: ChatCompletion['choices'][number]['message'], finish: ChatCompletion['choices'][number]['finish_reason'], extra: Record<string, unknown> = {}): ChatCompletion {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'upstream-model',
    choices: [{ index: 0, message, finish_reason: finish, ...extra }],
    usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_tokens_details: { cached_tokens: 100 } },
  };
}

test('response: text and tool_use blocks with parsed input, stop reasons, cache reads apart from input tokens', () => {
  const message = toAnthropicMessage(
    completion({ role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }, 'tool_calls'),
    facts,
  );
  assert.match(message.id, /^msg_[0-9a-f]{24}$/);
  assert.equal(message.model, 'claude-front', 'the model the client asked for');
  assert.deepEqual(message.content, [
    { type: 'text', text: 'Let me check.' },
    { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
  ]);
  assert.equal(message.stop_reason, 'tool_use');
  assert.deepEqual(message.usage, { input_tokens: 20, output_tokens: 30, cache_read_input_tokens: 100 });
  assert.equal(toAnthropicMessage(completion({ role: 'assistant', content: 'x' }, 'length'), facts).stop_reason, 'max_tokens');
  assert.equal(toAnthropicMessage(completion({ role: 'assistant', content: 'x' }, 'content_filter'), facts).stop_reason, 'refusal');
  assert.equal(toAnthropicMessage(completion({ role: 'assistant', content: 'x' }, 'stop'), facts).stop_reason, 'end_turn');
  // vLLM reports the matched stop string in `stop_reason`: that becomes stop_sequence exactly.
  const stopped = toAnthropicMessage(completion({ role: 'assistant', content: 'x' }, 'stop', { stop_reason: 'STOP' }), facts);
  assert.equal(stopped.stop_reason, 'stop_sequence');
  assert.equal(stopped.stop_sequence, 'STOP');
  const raw = toAnthropicMessage(completion({ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: 'not json' } }] }, 'tool_calls'), facts);
  assert.deepEqual(raw.content, [{ type: 'tool_use', id: 'c', name: 'f', input: { _raw: 'not json' } }]);
});

function chunk(delta: ChatCompletionChunk['choices'][number]['delta'], finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk {
  return { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] };
}

test('stream: text then two parallel tool calls → sequential blocks, input_json_delta per piece, usage in message_delta', () => {
  const translator = new AnthropicStreamTranslator(facts);
  const events = [
    ...translator.push(chunk({ role: 'assistant', content: '' })),
    ...translator.push(chunk({ content: 'Checking ' })),
    ...translator.push(chunk({ content: 'both.' })),
    ...translator.push(chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } }] })),
    ...translator.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] })),
    ...translator.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] })),
    ...translator.push(chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] })),
    ...translator.push(chunk({}, 'tool_calls')),
    ...translator.push({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70 } }),
    ...translator.finish(),
  ];
  const summary = events.map((event) => {
    const data = event.data as { index?: number; delta?: { type?: string }; content_block?: { type?: string } };
    return `${event.event}${data.index !== undefined ? `#${data.index}` : ''}${data.delta?.type ? `:${data.delta.type}` : ''}${data.content_block?.type ? `:${data.content_block.type}` : ''}`;
  });
  assert.deepEqual(summary, [
    'message_start',
    'content_block_start#0:text',
    'content_block_delta#0:text_delta',
    'content_block_delta#0:text_delta',
    'content_block_stop#0',
    'content_block_start#1:tool_use',
    'content_block_delta#1:input_json_delta',
    'content_block_delta#1:input_json_delta',
    'content_block_stop#1',
    'content_block_start#2:tool_use',
    'content_block_delta#2:input_json_delta',
    'content_block_stop#2',
    'message_delta',
    'message_stop',
  ]);
  const toolStart = events[5]?.data as { content_block: { id: string; name: string; input: unknown } };
  assert.deepEqual(toolStart.content_block, { type: 'tool_use', id: 'call_a', name: 'weather', input: {} });
  const messageDelta = events.at(-2)?.data as { delta: { stop_reason: string }; usage: { input_tokens: number; output_tokens: number } };
  assert.equal(messageDelta.delta.stop_reason, 'tool_use');
  assert.deepEqual(messageDelta.usage, { input_tokens: 50, output_tokens: 20 });
  assert.equal(encodeAnthropicEvent({ event: 'message_stop', data: { type: 'message_stop' } }), 'event: message_stop\ndata: {"type":"message_stop"}\n\n');
});

test('stream: an empty answer still opens and closes the message; length → max_tokens', () => {
  const translator = new AnthropicStreamTranslator(facts);
  const events = [...translator.push(chunk({}, 'length')), ...translator.finish()];
  assert.deepEqual(
    events.map((event) => event.event),
    ['message_start', 'message_delta', 'message_stop'],
  );
  assert.equal((events[1]?.data as { delta: { stop_reason: string } }).delta.stop_reason, 'max_tokens');
});

test('errors: Anthropic error types follow the status', () => {
  const body = (status: number) => anthropicErrorBody(new GatewayError('BW_ERR_INTERNAL', 'm', { status }));
  assert.deepEqual(body(400), { type: 'error', error: { type: 'invalid_request_error', message: 'm' } });
  assert.equal(body(401).error.type, 'authentication_error');
  assert.equal(body(403).error.type, 'permission_error');
  assert.equal(body(404).error.type, 'not_found_error');
  assert.equal(body(413).error.type, 'request_too_large');
  assert.equal(body(429).error.type, 'rate_limit_error');
  assert.equal(body(500).error.type, 'api_error');
  assert.equal(body(502).error.type, 'api_error');
  assert.equal(body(503).error.type, 'overloaded_error');
  assert.equal(body(504).error.type, 'api_error');
});
