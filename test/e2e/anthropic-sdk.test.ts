// The official Anthropic SDK, pointed at Breakwater's /v1/messages, works against an OpenAI-format upstream (the simulator)
// and against an Anthropic-format one (the simulator speaking `wire: anthropic`, through the Anthropic adapter).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const masterKey = 'test-master-key-anthropic-0123';
let server: TestGateway;
let client: Anthropic;

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['city'] },
};

before(async () => {
  server = await startTestGateway({
    auth: { master_key: masterKey },
    // One attempt: the errors below are the upstream's own, not what is left after retries.
    reliability: { max_attempts: 1 },
    providers: [
      { name: 'sim', type: 'sim', models: ['sim-fast'] },
      { name: 'sim-anthropic', type: 'sim', wire: 'anthropic', models: ['sim-claude'] },
    ],
  });
  client = new Anthropic({ baseURL: server.url, apiKey: masterKey, maxRetries: 0 });
});

after(() => server.close());

test('completes a message: text block, end_turn, usage equal to the upstream numbers', async () => {
  const message = await client.messages.create({ model: 'sim-fast', max_tokens: 200, system: 'Be brief.', messages: [{ role: 'user', content: 'Say something' }] });
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  assert.match(message.id, /^msg_/);
  assert.equal(message.model, 'sim-fast');
  assert.equal(message.stop_reason, 'end_turn');
  const block = message.content[0];
  assert.ok(block?.type === 'text' && block.text.length > 0);
  // The same conversation through the OpenAI route: the numbers are the upstream's, unchanged.
  const openai = (await (
    await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-fast', max_tokens: 200, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say something' }] }),
    })
  ).json()) as { choices: Array<{ message: { content: string } }>; usage: { prompt_tokens: number; completion_tokens: number } };
  assert.equal(block.text, openai.choices[0]?.message.content);
  assert.equal(message.usage.input_tokens, openai.usage.prompt_tokens);
  assert.equal(message.usage.output_tokens, openai.usage.completion_tokens);
});

test('max_tokens reached reads as stop_reason max_tokens', async () => {
  const message = await client.messages.create({ model: 'sim-fast', max_tokens: 3, messages: [{ role: 'user', content: 'Tell me a long story' }] });
  assert.equal(message.stop_reason, 'max_tokens');
  assert.equal(message.usage.output_tokens, 3);
});

test('streams a message: text deltas add up to the non-streamed text, usage in the final message', async () => {
  const params = { model: 'sim-fast', max_tokens: 200, messages: [{ role: 'user' as const, content: 'Tell me a story' }] };
  const stream = client.messages.stream(params);
  const types: string[] = [];
  let text = '';
  stream.on('streamEvent', (event) => types.push(event.type));
  stream.on('text', (delta) => (text += delta));
  const final = await stream.finalMessage();
  const whole = await client.messages.create(params);
  assert.equal(types[0], 'message_start');
  assert.equal(types.at(-1), 'message_stop');
  assert.equal(types.at(-2), 'message_delta');
  assert.ok(types.includes('content_block_start') && types.includes('content_block_delta') && types.includes('content_block_stop'));
  const block = whole.content[0];
  assert.ok(block?.type === 'text');
  assert.equal(text, block.text);
  assert.equal(final.stop_reason, 'end_turn');
  assert.equal(final.usage.output_tokens, whole.usage.output_tokens);
  assert.equal(final.usage.input_tokens, whole.usage.input_tokens);
});

test('the raw stream has event: lines matching each data type', async () => {
  const response = await fetch(`${server.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': masterKey, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'whatever-2025', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim-fast', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(response.headers.get('x-breakwater-provider'), 'sim');
  const events = (await response.text()).split('\n\n').filter((event) => event.trim() !== '');
  for (const event of events) {
    const [eventLine, dataLine] = event.split('\n');
    const name = eventLine?.replace(/^event: /, '');
    const data = JSON.parse(dataLine?.replace(/^data: /, '') ?? '') as { type: string };
    assert.equal(data.type, name, event);
  }
});

test('streams a tool call: input_json_delta pieces reassemble into the tool input', async () => {
  const stream = client.messages.stream({
    model: 'sim-fast',
    max_tokens: 200,
    tools: [weatherTool],
    messages: [{ role: 'user', content: 'Please call a tool for Paris' }],
  });
  const partials: string[] = [];
  stream.on('inputJson', (partial) => partials.push(partial));
  const final = await stream.finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  const toolUse = final.content.find((block) => block.type === 'tool_use');
  assert.ok(toolUse && toolUse.type === 'tool_use');
  assert.equal(toolUse.name, 'get_weather');
  assert.ok(partials.length >= 2, 'arguments arrived in pieces');
  assert.deepEqual(toolUse.input, JSON.parse(partials.join('')));
  assert.equal(typeof (toolUse.input as { city?: unknown }).city, 'string');
  const whole = await client.messages.create({ model: 'sim-fast', max_tokens: 200, tools: [weatherTool], messages: [{ role: 'user', content: 'Please call a tool for Paris' }] });
  const wholeToolUse = whole.content.find((block) => block.type === 'tool_use');
  assert.ok(wholeToolUse && wholeToolUse.type === 'tool_use');
  assert.deepEqual(wholeToolUse.input, toolUse.input);
  assert.equal(whole.stop_reason, 'tool_use');
});

test('a tool result goes back upstream and the conversation continues', async () => {
  const first = await client.messages.create({ model: 'sim-fast', max_tokens: 200, tools: [weatherTool], messages: [{ role: 'user', content: 'Please call a tool' }] });
  const toolUse = first.content.find((block) => block.type === 'tool_use');
  assert.ok(toolUse && toolUse.type === 'tool_use');
  const second = await client.messages.create({
    model: 'sim-fast',
    max_tokens: 200,
    tools: [weatherTool],
    messages: [
      { role: 'user', content: 'Please call a tool' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: '18 degrees and sunny' }, { type: 'text', text: 'Thanks, summarise.' }] },
    ],
  });
  assert.equal(second.stop_reason, 'end_turn');
  assert.ok(second.content[0]?.type === 'text');
});

test('typed errors: BadRequestError, AuthenticationError, NotFoundError, RateLimitError', async () => {
  await assert.rejects(
    // max_tokens is required by the Messages API.
    client.messages.create({ model: 'sim-fast', messages: [{ role: 'user', content: 'x' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming),
    (error: unknown) => error instanceof Anthropic.BadRequestError && error.status === 400 && /max_tokens/.test(error.message),
  );
  const wrongKey = new Anthropic({ baseURL: server.url, apiKey: 'wrong-key', maxRetries: 0 });
  await assert.rejects(wrongKey.messages.create({ model: 'sim-fast', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }), Anthropic.AuthenticationError);
  await assert.rejects(
    client.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    (error: unknown) => error instanceof Anthropic.NotFoundError && (error.error as { error?: { type?: string } }).error?.type === 'not_found_error',
  );
  await assert.rejects(
    client.messages.create({ model: 'sim-fast', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-sim-fault': 'status=429;retry-after=1' } }),
    (error: unknown) => error instanceof Anthropic.RateLimitError && error.headers?.get('retry-after') === '1' && (error.error as { error?: { type?: string } }).error?.type === 'rate_limit_error',
  );
  await assert.rejects(
    client.messages.create({ model: 'sim-fast', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-sim-fault': 'status=503' } }),
    (error: unknown) => error instanceof Anthropic.APIError && error.status === 503 && (error.error as { error?: { type?: string } }).error?.type === 'overloaded_error',
  );
});

test('errors on the OpenAI route keep the OpenAI envelope', async () => {
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
  });
  const body = (await response.json()) as { error?: { code?: string }; type?: string };
  assert.equal(response.status, 404);
  assert.equal(body.error?.code, 'model_not_found');
  assert.equal(body.type, undefined);
});

test('a stream cut after the first chunk ends with an Anthropic error event', async () => {
  const response = await fetch(`${server.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': masterKey, 'content-type': 'application/json', 'x-sim-fault': 'cut-after=3' },
    body: JSON.stringify({ model: 'sim-fast', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
  });
  const text = await response.text();
  assert.equal(response.status, 200);
  assert.match(text, /event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
  assert.doesNotMatch(text, /message_stop/);
});

test('served by an Anthropic-format upstream: completes, streams a tool call, maps its errors', async () => {
  const message = await client.messages.create({ model: 'sim-claude', max_tokens: 200, system: 'Be brief.', messages: [{ role: 'user', content: 'Say something' }] });
  assert.equal(message.stop_reason, 'end_turn');
  assert.ok(message.content[0]?.type === 'text' && message.content[0].text.length > 0);
  assert.ok(message.usage.input_tokens > 0 && message.usage.output_tokens > 0);
  const response = await fetch(`${server.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': masterKey, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim-claude', max_tokens: 200, system: 'Be brief.', messages: [{ role: 'user', content: 'Say something' }] }),
  });
  assert.equal(response.headers.get('x-breakwater-provider'), 'sim-anthropic');

  const stream = client.messages.stream({ model: 'sim-claude', max_tokens: 200, tools: [weatherTool], messages: [{ role: 'user', content: 'Please call a tool for Paris' }] });
  const partials: string[] = [];
  stream.on('inputJson', (partial) => partials.push(partial));
  const final = await stream.finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  const toolUse = final.content.find((block) => block.type === 'tool_use');
  assert.ok(toolUse && toolUse.type === 'tool_use' && toolUse.name === 'get_weather');
  assert.deepEqual(toolUse.input, JSON.parse(partials.join('')));
  const whole = await client.messages.create({ model: 'sim-claude', max_tokens: 200, tools: [weatherTool], messages: [{ role: 'user', content: 'Please call a tool for Paris' }] });
  assert.equal(final.usage.input_tokens, whole.usage.input_tokens, 'streamed usage equals the non-streamed usage');
  assert.equal(final.usage.output_tokens, whole.usage.output_tokens);

  await assert.rejects(
    client.messages.create({ model: 'sim-claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-sim-fault': 'status=400' } }),
    Anthropic.BadRequestError,
  );
  await assert.rejects(
    client.messages.create({ model: 'sim-claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-sim-fault': 'status=429;retry-after=1' } }),
    Anthropic.RateLimitError,
  );
});
