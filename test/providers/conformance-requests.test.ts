// Provider conformance, request side: the same canonical request (multi-turn, system prompt, tool calls and tool
// results, images, tools and tool_choice, stop sequences, sampling) reaches each provider in its own documented
// shape, at its own URL, with its own authentication headers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GatewayError } from '../../src/core/errors.js';
import type { ChatRequest } from '../../src/core/types.js';
import type { ProviderAdapter } from '../../src/providers/types.js';
import { callOptions, FixtureServer, fixtureProviderNames, loadFixture, makeAdapter, type FixtureProviderName as ProviderName } from './conformance-support.js';

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather by city',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'], additionalProperties: false },
  },
};

/** Multi-turn with a system prompt, parallel tool calls, their results, and a user turn with text and two images. */
const conversation: ChatRequest = {
  model: 'public-name',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'What is the weather in Paris and Bogotá?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
        { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Bogotá"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', content: '{"temperature":18}' },
    { role: 'tool', tool_call_id: 'call_2', content: 'sunny' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'And this picture?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
      ],
    },
  ],
  tools: [weatherTool],
  tool_choice: 'required',
  stop: ['END'],
  temperature: 0.2,
  top_p: 0.9,
  max_tokens: 300,
};

const server = new FixtureServer();
const adapters = new Map<ProviderName, ProviderAdapter>();

before(async () => {
  await server.start();
  for (const provider of fixtureProviderNames) adapters.set(provider, makeAdapter(provider, server.url));
});
after(async () => {
  for (const adapter of adapters.values()) await adapter.close();
  await server.close();
});

async function send(provider: ProviderName, request: ChatRequest, upstreamModel = 'upstream-model', adapter = adapters.get(provider)): Promise<Record<string, unknown>> {
  assert.ok(adapter);
  server.serve(loadFixture(provider, 'text.json'));
  await adapter.chat(request, callOptions(upstreamModel));
  return server.lastRequest().body;
}

describe('the same conversation, in each provider’s shape', () => {
  test('openai: passed through unchanged but for the upstream model name', async () => {
    const body = await send('openai', conversation);
    assert.deepEqual(body, { ...conversation, model: 'upstream-model', stream: false });
    const sent = server.lastRequest();
    assert.equal(sent.path, '/v1/chat/completions');
    assert.equal(sent.headers.authorization, 'Bearer test-key-openai');
  });

  test('anthropic: system on top, tool_use / tool_result blocks, images as base64 and url sources, roles alternating', async () => {
    const body = await send('anthropic', conversation, 'claude-sonnet-4-20250514');
    assert.deepEqual(body, {
      model: 'claude-sonnet-4-20250514',
      max_tokens: 300,
      system: 'You are terse.',
      messages: [
        { role: 'user', content: 'What is the weather in Paris and Bogotá?' },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
            { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { location: 'Bogotá' } },
          ],
        },
        {
          // Both tool results and the next user turn merge into one user turn, tool results first.
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: '{"temperature":18}' },
            { type: 'tool_result', tool_use_id: 'call_2', content: 'sunny' },
            { type: 'text', text: 'And this picture?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
      stop_sequences: ['END'],
      temperature: 0.2,
      top_p: 0.9,
      tools: [{ name: 'get_weather', description: 'Weather by city', input_schema: weatherTool.function.parameters }],
      tool_choice: { type: 'any' },
    });
    const sent = server.lastRequest();
    assert.equal(sent.path, '/v1/messages');
    assert.equal(sent.headers['x-api-key'], 'test-key-anthropic');
    assert.equal(sent.headers['anthropic-version'], '2023-06-01');
    assert.equal(sent.headers.authorization, undefined);
  });

  test('gemini: contents with user/model roles, systemInstruction, functionCall / functionResponse by name, inline and file images', async () => {
    const body = await send('gemini', conversation, 'gemini-2.0-flash');
    assert.deepEqual(body, {
      contents: [
        { role: 'user', parts: [{ text: 'What is the weather in Paris and Bogotá?' }] },
        {
          role: 'model',
          parts: [{ functionCall: { name: 'get_weather', args: { location: 'Paris' } } }, { functionCall: { name: 'get_weather', args: { location: 'Bogotá' } } }],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_weather', response: { temperature: 18 } } },
            { functionResponse: { name: 'get_weather', response: { content: 'sunny' } } },
            { text: 'And this picture?' },
            { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
            { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
      systemInstruction: { parts: [{ text: 'You are terse.' }] },
      // additionalProperties is dropped: Gemini's schema subset refuses it.
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY' } },
      generationConfig: { maxOutputTokens: 300, temperature: 0.2, topP: 0.9, stopSequences: ['END'] },
    });
    const sent = server.lastRequest();
    assert.equal(sent.path, '/v1beta/models/gemini-2.0-flash:generateContent');
    assert.equal(sent.headers['x-goog-api-key'], 'test-key-gemini');
    assert.ok(!sent.path.includes('key='), 'the key never travels in the URL');
  });

  test('azure-openai: OpenAI’s body unchanged but for the deployment name, at the deployment URL with api-version and api-key', async () => {
    const body = await send('azure-openai', conversation, 'prod-gpt4o');
    assert.deepEqual(body, { ...conversation, model: 'prod-gpt4o', stream: false });
    const sent = server.lastRequest();
    assert.equal(sent.path, '/openai/deployments/prod-gpt4o/chat/completions?api-version=2024-10-21');
    assert.equal(sent.headers['api-key'], 'test-key-azure-openai');
    assert.equal(sent.headers.authorization, undefined);
  });

  test('bedrock: system blocks, toolUse / toolResult blocks merged into alternating turns, inline image bytes, SigV4 signed', async () => {
    // Bedrock cannot fetch image URLs (and the gateway does not fetch user URLs): that part is the caller's 400.
    await assert.rejects(send('bedrock', conversation, 'anthropic.claude-3-5-sonnet-20240620-v1:0'), (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 400);
      assert.equal(error.param, 'messages[5].content[2].image_url.url');
      return true;
    });
    const last = conversation.messages.at(-1);
    const inlineOnly: ChatRequest = {
      ...conversation,
      messages: [...conversation.messages.slice(0, -1), { role: 'user', content: Array.isArray(last?.content) ? last.content.slice(0, 2) : [] }],
    };
    const body = await send('bedrock', inlineOnly, 'anthropic.claude-3-5-sonnet-20240620-v1:0');
    assert.deepEqual(body, {
      messages: [
        { role: 'user', content: [{ text: 'What is the weather in Paris and Bogotá?' }] },
        {
          role: 'assistant',
          content: [
            { toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { location: 'Paris' } } },
            { toolUse: { toolUseId: 'call_2', name: 'get_weather', input: { location: 'Bogotá' } } },
          ],
        },
        {
          role: 'user',
          content: [
            { toolResult: { toolUseId: 'call_1', content: [{ text: '{"temperature":18}' }] } },
            { toolResult: { toolUseId: 'call_2', content: [{ text: 'sunny' }] } },
            { text: 'And this picture?' },
            { image: { format: 'png', source: { bytes: 'iVBORw0KGgo=' } } },
          ],
        },
      ],
      system: [{ text: 'You are terse.' }],
      inferenceConfig: { maxTokens: 300, temperature: 0.2, topP: 0.9, stopSequences: ['END'] },
      toolConfig: { tools: [{ toolSpec: { name: 'get_weather', description: 'Weather by city', inputSchema: { json: weatherTool.function.parameters } } }], toolChoice: { any: {} } },
    });
    const sent = server.lastRequest();
    assert.equal(sent.path, '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse');
    assert.match(String(sent.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/);
  });
});

describe('tool_choice', () => {
  const withChoice = (toolChoice: unknown, extra: Partial<ChatRequest> = {}): ChatRequest => ({
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    tools: [weatherTool],
    tool_choice: toolChoice,
    ...extra,
  });
  const named = { type: 'function', function: { name: 'get_weather' } };

  test('anthropic: auto (default), none, required → any, named → tool, parallel_tool_calls false → disable_parallel_tool_use', async () => {
    assert.equal((await send('anthropic', withChoice('auto'))).tool_choice, undefined);
    assert.deepEqual((await send('anthropic', withChoice('none'))).tool_choice, { type: 'none' });
    assert.deepEqual((await send('anthropic', withChoice('required'))).tool_choice, { type: 'any' });
    assert.deepEqual((await send('anthropic', withChoice(named))).tool_choice, { type: 'tool', name: 'get_weather' });
    assert.deepEqual((await send('anthropic', withChoice('auto', { parallel_tool_calls: false }))).tool_choice, { type: 'auto', disable_parallel_tool_use: true });
  });

  test('gemini: AUTO, NONE, ANY, named → ANY limited to that function', async () => {
    const config = async (choice: unknown) => (await send('gemini', withChoice(choice))).toolConfig;
    assert.deepEqual(await config('auto'), { functionCallingConfig: { mode: 'AUTO' } });
    assert.deepEqual(await config('none'), { functionCallingConfig: { mode: 'NONE' } });
    assert.deepEqual(await config('required'), { functionCallingConfig: { mode: 'ANY' } });
    assert.deepEqual(await config(named), { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
  });
});

describe('anthropic specifics', () => {
  const hello: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

  test('max_tokens: max_completion_tokens, then max_tokens, then 4096 or the configured default_max_tokens', async () => {
    assert.equal((await send('anthropic', hello)).max_tokens, 4096);
    assert.equal((await send('anthropic', { ...hello, max_tokens: 50 })).max_tokens, 50);
    assert.equal((await send('anthropic', { ...hello, max_tokens: 50, max_completion_tokens: 70 })).max_tokens, 70);
    const configured = makeAdapter('anthropic', server.url, { default_max_tokens: 1024 });
    try {
      assert.equal((await send('anthropic', hello, 'm', configured)).max_tokens, 1024);
    } finally {
      await configured.close();
    }
  });

  test('developer and several system messages become system blocks; consecutive user turns merge', async () => {
    const body = await send('anthropic', {
      model: 'm',
      messages: [
        { role: 'system', content: 'Rule one.' },
        { role: 'developer', content: [{ type: 'text', text: 'Rule two.' }] },
        { role: 'user', content: 'first' },
        { role: 'user', content: 'second' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'third' },
      ],
    });
    assert.deepEqual(body.system, [
      { type: 'text', text: 'Rule one.' },
      { type: 'text', text: 'Rule two.' },
    ]);
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'first' }, { type: 'text', text: 'second' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
      { role: 'user', content: 'third' },
    ]);
  });

  test('a stream request asks for stream: true and an event stream', async () => {
    server.serve(loadFixture('anthropic', 'text.chunks.txt'));
    const stream = await adapters.get('anthropic')?.chatStream({ ...hello, stream: true, stream_options: { include_usage: true } }, callOptions('claude'));
    assert.ok(stream);
    for await (const item of stream) void item;
    const sent = server.lastRequest();
    assert.equal(sent.body.stream, true);
    assert.equal(sent.body.stream_options, undefined, 'OpenAI-only fields are not sent');
    assert.equal(sent.headers.accept, 'text/event-stream');
  });

  test('tool call arguments that are not JSON are the caller’s 400, naming the field', async () => {
    const request: ChatRequest = {
      model: 'm',
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{not json' } }] },
      ],
    };
    await assert.rejects(send('anthropic', request), (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === 'messages[1].tool_calls[0].function.arguments');
  });
});

describe('gemini specifics', () => {
  test('stream requests go to :streamGenerateContent?alt=sse; models/ prefixes are accepted', async () => {
    server.serve(loadFixture('gemini', 'text.chunks.txt'));
    const stream = await adapters.get('gemini')?.chatStream({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }, callOptions('models/gemini-2.0-flash'));
    assert.ok(stream);
    for await (const item of stream) void item;
    assert.equal(server.lastRequest().path, '/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
  });

  test('JSON mode sets responseMimeType; n, seed and penalties map to generationConfig', async () => {
    const body = await send('gemini', {
      model: 'm',
      messages: [{ role: 'user', content: 'json please' }],
      response_format: { type: 'json_object' },
      n: 2,
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: 0.25,
    });
    assert.deepEqual(body.generationConfig, { responseMimeType: 'application/json', candidateCount: 2, seed: 7, presencePenalty: 0.5, frequencyPenalty: 0.25 });
  });

  test('response_format: json_schema → application/json plus the schema as responseJsonSchema, unchanged', async () => {
    // A schema with what Gemini's older OpenAPI-subset responseSchema could not say ($defs/$ref, additionalProperties, anyOf with null).
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, tags: { type: 'array', items: { $ref: '#/$defs/tag' } }, note: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
      required: ['name', 'tags', 'note'],
      additionalProperties: false,
      $defs: { tag: { type: 'string', enum: ['a', 'b'] } },
    };
    const body = await send('gemini', { model: 'm', messages: [{ role: 'user', content: 'json please' }], response_format: { type: 'json_schema', json_schema: { name: 'record', strict: true, schema } } });
    assert.deepEqual(body.generationConfig, { responseMimeType: 'application/json', responseJsonSchema: schema });
    const streamed = adapters.get('gemini');
    assert.ok(streamed);
    server.serve(loadFixture('gemini', 'text.chunks.txt'));
    for await (const item of await streamed.chatStream({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true, response_format: { type: 'json_schema', json_schema: { name: 'r', schema } } }, callOptions('g'))) void item;
    assert.deepEqual(server.lastRequest().body.generationConfig, { responseMimeType: 'application/json', responseJsonSchema: schema }, 'the same on the stream endpoint');
  });

  test('response_format: json_object → responseMimeType only; text → nothing; a json_schema without schema → JSON mode', async () => {
    const format = async (responseFormat: unknown) => (await send('gemini', { model: 'm', messages: [{ role: 'user', content: 'x' }], response_format: responseFormat })).generationConfig;
    assert.deepEqual(await format({ type: 'json_object' }), { responseMimeType: 'application/json' });
    assert.equal(await format({ type: 'text' }), undefined);
    assert.deepEqual(await format({ type: 'json_schema', json_schema: { name: 'free' } }), { responseMimeType: 'application/json' });
  });

  test('response_format that cannot be expressed is the caller’s 400, naming the field', async () => {
    const refused = async (responseFormat: unknown, param: string) => {
      const before = server.requests.length;
      await assert.rejects(send('gemini', { model: 'm', messages: [{ role: 'user', content: 'x' }], response_format: responseFormat }), (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === param);
      assert.equal(server.requests.length, before, 'nothing is sent upstream');
    };
    await refused({ type: 'xml' }, 'response_format.type');
    await refused({ type: 'json_schema' }, 'response_format.json_schema');
    await refused({ type: 'json_schema', json_schema: { name: 'r', schema: ['not', 'a', 'schema'] } }, 'response_format.json_schema.schema');
    await refused('json', 'response_format');
  });

  test('a tool result for a call the conversation never made is the caller’s 400', async () => {
    const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'nope', content: 'r' }] };
    await assert.rejects(send('gemini', request), (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === 'messages[1].tool_call_id');
  });
});
