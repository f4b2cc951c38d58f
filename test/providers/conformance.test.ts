// Provider conformance, against recorded fixtures: every adapter (openai, anthropic, gemini, azure-openai, bedrock) turns its provider's
// documented responses, streams and errors into the same canonical results — text, tool calls (single and parallel,
// streamed arguments reassembled exactly), finish reasons, content-policy blocks, errors with the right status and
// `retryable`, and usage equal to the provider's own numbers. The same cases run against the simulator in
// conformance-sim.test.ts (for the wire formats the simulator speaks); request translation — multi-turn, system prompt,
// tool results, images, stop sequences — is checked for every adapter in conformance-requests.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GatewayError, type ErrorCode } from '../../src/core/errors.js';
import type { ChatRequest, FinishReason } from '../../src/core/types.js';
import type { ProviderAdapter } from '../../src/providers/types.js';
import { callOptions, collectStream, FixtureServer, fixtureProviderNames as providerNames, isStreamFixture, loadFixture, makeAdapter, usageNumbers, type FixtureProviderName as ProviderName } from './conformance-support.js';

interface Expected {
  text: string;
  toolCalls?: Array<{ name: string; arguments: string }>;
  finish: FinishReason;
  usage: { prompt: number; completion: number; total: number; cached?: number };
}

interface ExpectedError {
  status: number;
  code: ErrorCode;
  retryable: boolean;
  publicCode?: string;
  retryAfterMs?: number;
}

type Case = { file: string; expect: Expected } | { file: string; error: ExpectedError };

const usage = (prompt: number, completion: number, cached?: number) => ({ prompt, completion, total: prompt + completion, ...(cached === undefined ? {} : { cached }) });
const rateLimited = (retryAfterMs: number): ExpectedError => ({ status: 429, code: 'BW_ERR_UPSTREAM_RATE_LIMITED', retryable: true, retryAfterMs });
const unavailable: ExpectedError = { status: 503, code: 'BW_ERR_UPSTREAM_UNAVAILABLE', retryable: true };
const serverError: ExpectedError = { status: 502, code: 'BW_ERR_UPSTREAM_SERVER_ERROR', retryable: true };
const contextLength: ExpectedError = { status: 400, code: 'BW_ERR_UPSTREAM_REJECTED', retryable: false, publicCode: 'context_length_exceeded' };
const upstreamAuth: ExpectedError = { status: 502, code: 'BW_ERR_UPSTREAM_AUTH', retryable: false };
const bedrockSongs = 'Here is a list of 3 pop songs by artists from the United Kingdom:\n\n1. "As It Was" by Harry Styles\n2. "Easy On Me" by Adele\n3. "Unholy" by Sam Smith and Kim Petras';
const bedrockBlocked = 'Sorry, the model cannot answer this question.';

/** The cases, each with the fixture every provider has for it (a gap is named and explained in `gaps`). */
const cases: Record<string, Partial<Record<ProviderName, Case[]>>> = {
  text: {
    openai: [
      { file: 'text.json', expect: { text: 'Hello! How can I assist you today?', finish: 'stop', usage: usage(19, 10, 0) } },
      { file: 'text.chunks.txt', expect: { text: 'Hello! How can I help?', finish: 'stop', usage: usage(19, 7, 0) } },
    ],
    anthropic: [
      // prompt_tokens = input 2095 + cache reads 1800 + cache writes 248, as OpenAI counts cached prompt tokens.
      { file: 'text.json', expect: { text: 'Hi! My name is Claude.', finish: 'stop', usage: usage(4143, 503, 1800) } },
      { file: 'text.chunks.txt', expect: { text: 'Hello!', finish: 'stop', usage: usage(25, 15, 0) } },
    ],
    gemini: [
      { file: 'text.json', expect: { text: 'AI learns patterns from lots of data to make predictions or decisions.', finish: 'stop', usage: usage(8, 14) } },
      { file: 'text.chunks.txt', expect: { text: 'AI learns patterns from lots of data to make predictions or decisions.', finish: 'stop', usage: usage(8, 14) } },
      // Thought summaries are not answer text; thinking tokens are billed as output.
      { file: 'thinking.json', expect: { text: "There are 3 r's in strawberry.", finish: 'stop', usage: usage(12, 221) } },
    ],
    'azure-openai': [
      { file: 'text.json', expect: { text: 'Hello! How can I assist you today?', finish: 'stop', usage: usage(19, 10) } },
      // Azure's prompt-filter chunk (empty choices, id "") comes first; the client still sees the role first.
      { file: 'text.chunks.txt', expect: { text: 'Hello! How can I help?', finish: 'stop', usage: usage(19, 7) } },
      // Asynchronous filter: annotation chunks without a delta, one of them after the finish chunk.
      { file: 'async-filter.chunks.txt', expect: { text: 'Color is a property of light.', finish: 'stop', usage: usage(15, 7) } },
    ],
    bedrock: ['text.json', 'text.events.json'].map((file) => ({ file, expect: { text: bedrockSongs, finish: 'stop' as const, usage: usage(125, 60) } })),
  },
  'tool call': {
    openai: [
      { file: 'tool-call.json', expect: { text: '', toolCalls: [{ name: 'get_current_weather', arguments: '{\n"location": "Boston, MA"\n}' }], finish: 'tool_calls', usage: usage(82, 17, 0) } },
      { file: 'tool-call.chunks.txt', expect: { text: '', toolCalls: [{ name: 'get_weather', arguments: '{"location":"Paris, France"}' }], finish: 'tool_calls', usage: usage(68, 16) } },
    ],
    anthropic: [
      {
        file: 'tool-call.json',
        expect: { text: "I'll check the current weather in San Francisco for you.", toolCalls: [{ name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' }], finish: 'tool_calls', usage: usage(384, 92, 0) },
      },
      {
        file: 'tool-call.chunks.txt',
        expect: {
          text: "Okay, let's check the weather for San Francisco, CA:",
          // Reassembled from nine input_json_delta pieces, byte for byte.
          toolCalls: [{ name: 'get_weather', arguments: '{"location": "San Francisco, CA", "unit": "fahrenheit"}' }],
          finish: 'tool_calls',
          usage: usage(472, 89, 0),
        },
      },
    ],
    gemini: [
      { file: 'tool-call.json', expect: { text: '', toolCalls: [{ name: 'set_light_values', arguments: '{"brightness":25,"color_temp":"warm"}' }], finish: 'tool_calls', usage: usage(95, 11) } },
      { file: 'tool-call.chunks.txt', expect: { text: 'Setting the lights now.', toolCalls: [{ name: 'set_light_values', arguments: '{"brightness":25,"color_temp":"warm"}' }], finish: 'tool_calls', usage: usage(95, 16) } },
    ],
    'azure-openai': ['tool-call.json', 'tool-call.chunks.txt'].map((file) => ({
      file,
      expect: { text: '', toolCalls: [{ name: 'get_current_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' }], finish: 'tool_calls' as const, usage: usage(88, 22) },
    })),
    bedrock: [
      // Converse gives tool input as a JSON value: it is serialised compactly.
      { file: 'tool-call.json', expect: { text: '', toolCalls: [{ name: 'top_song', arguments: '{"sign":"WZPZ"}' }], finish: 'tool_calls', usage: usage(375, 25) } },
      // Streamed, the input pieces are reassembled byte for byte.
      { file: 'tool-call.events.json', expect: { text: "I'll look up the top song on WZPZ.", toolCalls: [{ name: 'top_song', arguments: '{"sign": "WZPZ"}' }], finish: 'tool_calls', usage: usage(375, 52) } },
    ],
  },
  'parallel tool calls': {
    openai: ['parallel-tool-calls.json', 'parallel-tool-calls.chunks.txt'].map((file) => ({
      file,
      expect: {
        text: '',
        toolCalls: [
          { name: 'get_weather', arguments: '{"location":"Paris, France"}' },
          { name: 'get_weather', arguments: '{"location":"Bogotá, Colombia"}' },
        ],
        finish: 'tool_calls' as const,
        usage: usage(91, 48),
      },
    })),
    anthropic: [
      {
        file: 'parallel-tool-calls.json',
        expect: {
          text: "I'll check the weather and time for you.",
          toolCalls: [
            { name: 'get_weather', arguments: '{"location":"San Francisco, CA"}' },
            { name: 'get_time', arguments: '{"timezone":"America/Los_Angeles"}' },
          ],
          finish: 'tool_calls',
          usage: usage(518, 131, 0),
        },
      },
      {
        file: 'parallel-tool-calls.chunks.txt',
        expect: {
          text: "I'll check the weather and time for you.",
          toolCalls: [
            { name: 'get_weather', arguments: '{"location": "San Francisco, CA"}' },
            { name: 'get_time', arguments: '{"timezone": "America/Los_Angeles"}' },
          ],
          finish: 'tool_calls',
          usage: usage(518 + 1024, 131, 1024),
        },
      },
    ],
    gemini: ['parallel-tool-calls.json', 'parallel-tool-calls.chunks.txt'].map((file) => ({
      file,
      expect: {
        text: '',
        toolCalls: [
          { name: 'power_disco_ball', arguments: '{"power":true}' },
          { name: 'start_music', arguments: '{"energetic":true,"loud":true}' },
          { name: 'dim_lights', arguments: '{"brightness":0.5}' },
        ],
        finish: 'tool_calls' as const,
        usage: usage(146, 30),
      },
    })),
    'azure-openai': ['parallel-tool-calls.json', 'parallel-tool-calls.chunks.txt'].map((file) => ({
      file,
      expect: {
        text: '',
        toolCalls: ['San Francisco', 'Tokyo', 'Paris'].map((location) => ({ name: 'get_current_time', arguments: `{"location": "${location}"}` })),
        finish: 'tool_calls' as const,
        usage: usage(96, 63),
      },
    })),
    bedrock: [
      {
        file: 'parallel-tool-calls.json',
        expect: {
          text: "I'll look up the top songs on both stations.",
          toolCalls: [
            { name: 'top_song', arguments: '{"sign":"WZPZ"}' },
            { name: 'top_song', arguments: '{"sign":"WKRP"}' },
          ],
          finish: 'tool_calls',
          usage: usage(375, 94),
        },
      },
      {
        file: 'parallel-tool-calls.events.json',
        expect: {
          text: "I'll look up the top songs on both stations.",
          toolCalls: [
            { name: 'top_song', arguments: '{"sign": "WZPZ"}' },
            { name: 'top_song', arguments: '{"sign": "WKRP"}' },
          ],
          finish: 'tool_calls',
          usage: usage(375, 94),
        },
      },
    ],
  },
  'length stop': {
    openai: ['length.json', 'length.chunks.txt'].map((file) => ({ file, expect: { text: 'Once upon a time, in a', finish: 'length' as const, usage: usage(12, 8) } })),
    anthropic: ['length.json', 'length.chunks.txt'].map((file) => ({ file, expect: { text: 'Once upon a time, in a', finish: 'length' as const, usage: usage(14, 8) } })),
    gemini: ['length.json', 'length.chunks.txt'].map((file) => ({ file, expect: { text: 'Once upon a time, in a', finish: 'length' as const, usage: usage(10, 8) } })),
    'azure-openai': ['length.json', 'length.chunks.txt'].map((file) => ({ file, expect: { text: 'Once upon a time, in a', finish: 'length' as const, usage: usage(12, 8) } })),
    bedrock: ['length.json', 'length.events.json'].map((file) => ({ file, expect: { text: 'Once upon a time, in a', finish: 'length' as const, usage: usage(11, 8) } })),
  },
  'stop sequence': {
    openai: [{ file: 'stop-sequence.json', expect: { text: '1. Apples\n2. Pears\n', finish: 'stop', usage: usage(17, 10) } }],
    anthropic: [{ file: 'stop-sequence.json', expect: { text: '1. Apples\n2. Pears', finish: 'stop', usage: usage(21, 11) } }],
    gemini: [{ file: 'stop-sequence.json', expect: { text: '1. Apples\n2. Pears\n', finish: 'stop', usage: usage(17, 10) } }],
    'azure-openai': [{ file: 'stop-sequence.json', expect: { text: '1. Apples\n2. Pears\n', finish: 'stop', usage: usage(17, 10) } }],
    bedrock: [{ file: 'stop-sequence.json', expect: { text: '1. Apples\n2. Pears\n', finish: 'stop', usage: usage(17, 10) } }],
  },
  'content filter on the output': {
    openai: ['content-filter.json', 'content-filter.chunks.txt'].map((file) => ({ file, expect: { text: 'I can describe the general idea, but', finish: 'content_filter' as const, usage: usage(18, 8) } })),
    anthropic: [
      { file: 'refusal.json', expect: { text: "I can't help with that.", finish: 'content_filter', usage: usage(31, 9) } },
      { file: 'refusal.chunks.txt', expect: { text: 'Sure, the first step is', finish: 'content_filter', usage: usage(31, 6) } },
    ],
    gemini: ['safety.json', 'safety.chunks.txt'].map((file) => ({ file, expect: { text: 'I can describe the general idea, but', finish: 'content_filter' as const, usage: usage(18, 8) } })),
    'azure-openai': ['content-filter.json', 'content-filter.chunks.txt'].map((file) => ({ file, expect: { text: 'I can describe the general idea, but', finish: 'content_filter' as const, usage: usage(18, 8) } })),
    bedrock: ['guardrail-output.json', 'guardrail-output.events.json'].map((file) => ({ file, expect: { text: bedrockBlocked, finish: 'content_filter' as const, usage: usage(23, 41) } })),
  },
  'content-policy block of the prompt': {
    openai: [{ file: 'prompt-blocked.json', error: { status: 400, code: 'BW_ERR_UPSTREAM_REJECTED', retryable: false, publicCode: 'content_filter' } }],
    gemini: ['prompt-blocked.json', 'prompt-blocked.chunks.txt'].map((file) => ({ file, error: { status: 400, code: 'BW_ERR_CONTENT_POLICY' as const, retryable: false } })),
    // Azure refuses a filtered prompt with 400 code content_filter, kept as the public code.
    'azure-openai': [{ file: 'prompt-blocked.json', error: { status: 400, code: 'BW_ERR_UPSTREAM_REJECTED', retryable: false, publicCode: 'content_filter' } }],
    // A Bedrock guardrail answers a blocked prompt with 200, its blocked-input message and stopReason guardrail_intervened.
    bedrock: [{ file: 'guardrail-input.json', expect: { text: bedrockBlocked, finish: 'content_filter', usage: usage(0, 0) } }],
  },
  'rate limited (429 with a wait hint)': {
    openai: [{ file: 'error-429.json', error: rateLimited(7_000) }],
    anthropic: [{ file: 'error-429.json', error: rateLimited(7_000) }],
    gemini: [{ file: 'error-429.json', error: rateLimited(37_000) }],
    'azure-openai': [{ file: 'error-429.json', error: rateLimited(7_000) }],
    // Bedrock sends no wait hint: the executor's own backoff applies. Throttling inside the stream is the same error.
    bedrock: ['error-429.json', 'error-throttled.events.json'].map((file) => ({ file, error: { status: 429, code: 'BW_ERR_UPSTREAM_RATE_LIMITED' as const, retryable: true } })),
  },
  'overloaded / unavailable': {
    openai: [{ file: 'error-503.json', error: unavailable }],
    anthropic: [
      { file: 'error-529.json', error: unavailable },
      // An error event inside a 200 stream, before any output: still a retryable error before the first chunk.
      { file: 'error-overloaded.chunks.txt', error: unavailable },
    ],
    gemini: [{ file: 'error-503.json', error: unavailable }],
    'azure-openai': [{ file: 'error-503.json', error: unavailable }],
    bedrock: [
      { file: 'error-503.json', error: unavailable },
      { file: 'error-unavailable.events.json', error: unavailable },
    ],
  },
  'server error': {
    openai: [{ file: 'error-500.json', error: serverError }],
    anthropic: [{ file: 'error-500.json', error: serverError }],
    gemini: [{ file: 'error-500.json', error: serverError }],
    'azure-openai': [{ file: 'error-500.json', error: serverError }],
    bedrock: [{ file: 'error-500.json', error: serverError }],
  },
  'context length exceeded': {
    openai: [{ file: 'error-400-context.json', error: contextLength }],
    anthropic: [{ file: 'error-400-context.json', error: contextLength }],
    gemini: [{ file: 'error-400-context.json', error: contextLength }],
    'azure-openai': [{ file: 'error-400-context.json', error: contextLength }],
    bedrock: [{ file: 'error-400-context.json', error: contextLength }],
  },
  'upstream refuses the gateway key': {
    openai: [{ file: 'error-401.json', error: upstreamAuth }],
    anthropic: [{ file: 'error-401.json', error: upstreamAuth }],
    // Google answers a bad key with 400 INVALID_ARGUMENT; it is still an operator problem, not the caller's.
    gemini: [{ file: 'error-400-key.json', error: upstreamAuth }],
    'azure-openai': [{ file: 'error-401.json', error: upstreamAuth }],
    bedrock: [{ file: 'error-403.json', error: upstreamAuth }],
  },
};

/** Where a provider has no such case, and why. */
const gaps: Record<string, Partial<Record<ProviderName, string>>> = {
  'content-policy block of the prompt': { anthropic: 'Anthropic has no prompt-level block; its refusals arrive as stop_reason "refusal" (the output case)' },
};

const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'Hello' }] };
const server = new FixtureServer();
const adapters = new Map<ProviderName, ProviderAdapter>();

before(async () => {
  await server.start();
  for (const provider of providerNames) adapters.set(provider, makeAdapter(provider, server.url));
});
after(async () => {
  for (const adapter of adapters.values()) await adapter.close();
  await server.close();
});

function adapterFor(provider: ProviderName): ProviderAdapter {
  const adapter = adapters.get(provider);
  assert.ok(adapter);
  return adapter;
}

/** Compares usage on the numbers the case names (cached prompt tokens only where the provider reports them). */
function assertUsage(actual: ReturnType<typeof usageNumbers>, expected: Expected['usage']): void {
  const { cached, ...counts } = actual;
  assert.deepEqual(expected.cached === undefined ? counts : { ...counts, cached }, expected);
}

async function checkResponse(provider: ProviderName, file: string, expected: Expected): Promise<void> {
  const adapter = adapterFor(provider);
  const stream = isStreamFixture(file);
  server.serve(loadFixture(provider, file));
  if (stream) {
    const collected = await collectStream(await adapter.chatStream({ ...request, stream: true }, callOptions('m')));
    assert.equal(collected.text, expected.text);
    assert.deepEqual(collected.toolCalls.map(({ name, arguments: text }) => ({ name, arguments: text })), expected.toolCalls ?? []);
    for (const call of collected.toolCalls) assert.ok(call.id.length > 0);
    assert.equal(new Set(collected.toolCalls.map((call) => call.id)).size, collected.toolCalls.length, 'tool call ids are distinct');
    assert.equal(collected.finishReason, expected.finish);
    assertUsage(usageNumbers(collected.usage), expected.usage);
    return;
  }
  const { completion, raw } = await adapter.chat(request, callOptions('m'));
  assert.deepEqual(JSON.parse(raw), completion, 'the body relayed to the client is the canonical completion');
  assert.equal(completion.object, 'chat.completion');
  const choice = completion.choices[0];
  assert.ok(choice);
  assert.equal(choice.message.role, 'assistant');
  assert.equal(choice.message.content ?? '', expected.text);
  assert.deepEqual((choice.message.tool_calls ?? []).map((call) => ({ name: call.function.name, arguments: call.function.arguments })), expected.toolCalls ?? []);
  assert.equal(choice.finish_reason, expected.finish);
  assertUsage(usageNumbers(completion.usage), expected.usage);
}

async function checkError(provider: ProviderName, file: string, expected: ExpectedError): Promise<void> {
  const adapter = adapterFor(provider);
  const check = (error: unknown) => {
    assert.ok(error instanceof GatewayError, `a GatewayError, got ${String(error)}`);
    assert.equal(error.code, expected.code);
    assert.equal(error.status, expected.status);
    assert.equal(error.retryable, expected.retryable);
    if (expected.publicCode !== undefined) assert.equal(error.publicCode, expected.publicCode);
    if (expected.retryAfterMs !== undefined) assert.equal(error.retryAfterMs, expected.retryAfterMs);
    return true;
  };
  const fixture = loadFixture(provider, file);
  server.serve(fixture);
  if (!isStreamFixture(file)) await assert.rejects(adapter.chat(request, callOptions('m')), check);
  // A 200 JSON body is a non-stream answer; its streamed counterpart is a .chunks.txt / .events.json fixture of its own.
  if (fixture.status === 200 && !isStreamFixture(file)) return;
  // Streaming: the error comes before the first chunk, so the gateway can still answer with a status (or fall back).
  let chunksBeforeError = 0;
  await assert.rejects(async () => {
    for await (const item of await adapter.chatStream({ ...request, stream: true }, callOptions('m'))) {
      void item;
      chunksBeforeError++;
    }
  }, check);
  assert.equal(chunksBeforeError, 0, 'no chunk is yielded before the error');
}

for (const [name, perProvider] of Object.entries(cases)) {
  describe(name, () => {
    for (const provider of providerNames) {
      const providerCases = perProvider[provider];
      if (providerCases === undefined) continue;
      for (const entry of providerCases) {
        test(`${provider}: ${entry.file}`, () => ('expect' in entry ? checkResponse(provider, entry.file, entry.expect) : checkError(provider, entry.file, entry.error)));
      }
    }
  });
}

test('every adapter has a fixture for every case, or a stated reason it cannot', () => {
  for (const [name, perProvider] of Object.entries(cases)) {
    for (const provider of providerNames) {
      if (perProvider[provider] === undefined) assert.ok(gaps[name]?.[provider], `${provider} has no fixture for "${name}"`);
    }
  }
});

test('gemini embeddings: batchEmbedContents → the OpenAI embeddings shape, float and base64', async () => {
  const adapter = adapterFor('gemini');
  server.serve(loadFixture('gemini', 'embeddings.json'));
  const { response, raw } = await adapter.embeddings({ model: 'text-embedding-004', input: ['hello world', 'other'] }, callOptions('text-embedding-004'));
  assert.deepEqual(JSON.parse(raw), response);
  assert.equal(response.object, 'list');
  assert.deepEqual(response.data.map((item) => item.index), [0, 1]);
  assert.deepEqual(response.data[0]?.embedding, [0.013168523, -0.008711934, -0.046782676, 0.00069968984]);
  assert.ok(response.usage.prompt_tokens > 0, 'an estimate, since Gemini reports none');
  const sent = server.lastRequest();
  assert.equal(sent.path, '/v1beta/models/text-embedding-004:batchEmbedContents');
  assert.deepEqual(sent.body, {
    requests: [
      { model: 'models/text-embedding-004', content: { parts: [{ text: 'hello world' }] } },
      { model: 'models/text-embedding-004', content: { parts: [{ text: 'other' }] } },
    ],
  });
  const encoded = await adapter.embeddings({ model: 'e', input: 'x', encoding_format: 'base64' }, callOptions('text-embedding-004'));
  const bytes = Buffer.from(encoded.response.data[0]?.embedding as string, 'base64');
  assert.equal(bytes.length, 4 * 4);
  assert.ok(Math.abs(bytes.readFloatLE(0) - 0.013168523) < 1e-6);
});

test('anthropic has no embeddings: a clear 400, not an upstream call', async () => {
  const before = server.requests.length;
  await assert.rejects(adapterFor('anthropic').embeddings({ model: 'e', input: 'x' }, callOptions('e')), (error: unknown) => error instanceof GatewayError && error.status === 400);
  assert.equal(server.requests.length, before);
});
