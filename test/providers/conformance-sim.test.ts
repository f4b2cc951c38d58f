// Provider conformance against the simulator: each adapter talks to the simulator in its own wire format (OpenAI,
// Anthropic Messages, Gemini; Azure OpenAI at the simulator's /openai/deployments/… routes) and must give the same canonical results — streamed and not, with usage equal to what
// the simulator counted — for text, multi-turn with a system prompt, single and parallel tool calls, tool results,
// images, stop sequences, length stops, content-policy blocks and every scripted error.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GatewayError, type ErrorCode } from '../../src/core/errors.js';
import type { ChatCompletion, ChatRequest } from '../../src/core/types.js';
import type { ProviderAdapter } from '../../src/providers/types.js';
import { startSimServer, type SimServer } from '../../src/sim/index.js';
import { callOptions, collectStream, makeAdapter, simProviderNames as providerNames, usageNumbers, type CollectedStream, type SimProviderName as ProviderName } from './conformance-support.js';

let sim: SimServer;
const adapters = new Map<ProviderName, ProviderAdapter>();

before(async () => {
  sim = await startSimServer({ name: 'conformance' });
  for (const provider of providerNames) adapters.set(provider, makeAdapter(provider, sim.url));
});
after(async () => {
  for (const adapter of adapters.values()) await adapter.close();
  await sim.close();
});

const tool = (name: string, properties: Record<string, unknown>) => ({ type: 'function', function: { name, parameters: { type: 'object', properties } } });
const weatherTool = tool('get_weather', { location: { type: 'string' } });
const timeTool = tool('get_time', { timezone: { type: 'string', enum: ['UTC', 'Europe/Paris'] } });

function adapterFor(provider: ProviderName): ProviderAdapter {
  const adapter = adapters.get(provider);
  assert.ok(adapter);
  return adapter;
}

interface Both {
  completion: ChatCompletion;
  stream: CollectedStream;
}

/** The same request, non-streamed and streamed, through one adapter. */
async function both(provider: ProviderName, request: ChatRequest, headers?: Record<string, string>): Promise<Both> {
  const adapter = adapterFor(provider);
  const { completion } = await adapter.chat(request, callOptions('sim-fast', headers));
  const stream = await collectStream(await adapter.chatStream({ ...request, stream: true }, callOptions('sim-fast', headers)));
  return { completion, stream };
}

/** What every wire must agree on between its JSON and its stream: text, tool calls, finish reason and usage. */
function assertSameAnswer({ completion, stream }: Both): void {
  const choice = completion.choices[0];
  assert.ok(choice);
  assert.equal(stream.text, textOf(completion), 'streamed text reassembles to the JSON text');
  assert.deepEqual(
    stream.toolCalls.map((call) => ({ name: call.name, arguments: call.arguments })),
    (choice.message.tool_calls ?? []).map((call) => ({ name: call.function.name, arguments: call.function.arguments })),
    'streamed tool-call arguments reassemble exactly',
  );
  assert.equal(stream.finishReason, choice.finish_reason);
  assert.deepEqual(usageNumbers(stream.usage), usageNumbers(completion.usage), 'usage is the same streamed or not');
  const usage = usageNumbers(completion.usage);
  assert.equal(usage.total, usage.prompt + usage.completion);
}

const user = (content: string): ChatRequest => ({ model: 'sim-fast', messages: [{ role: 'user', content }] });

/** The answer's text (adapters always answer with string content or null). */
function textOf(completion: ChatCompletion): string {
  const content = completion.choices[0]?.message.content;
  return typeof content === 'string' ? content : '';
}

for (const provider of providerNames) {
  describe(`${provider} wire`, () => {
    test('text: same words and usage streamed or not; prompt tokens as the simulator counts them', async () => {
      const answer = await both(provider, user('Hello there'));
      assertSameAnswer(answer);
      assert.equal(answer.completion.choices[0]?.finish_reason, 'stop');
      assert.ok(textOf(answer.completion).split(' ').length >= 8);
      // Two words plus four tokens of message framing.
      assert.equal(answer.completion.usage?.prompt_tokens, 6);
    });

    test('multi-turn with a system prompt: every turn reaches the upstream', async () => {
      const answer = await both(provider, {
        model: 'sim-fast',
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'Hi there' },
          { role: 'assistant', content: 'Hello! How can I help?' },
          { role: 'user', content: 'Tell me about harbors' },
        ],
      });
      assertSameAnswer(answer);
      assert.equal(answer.completion.usage?.prompt_tokens, 3 + 2 + 5 + 4 + 4 * 4);
    });

    test('a single tool call, arguments reassembled exactly from the stream', async () => {
      const answer = await both(provider, { ...user('Please call a tool for Paris'), tools: [weatherTool, timeTool] });
      assertSameAnswer(answer);
      const calls = answer.stream.toolCalls;
      assert.equal(calls.length, 1);
      assert.equal(calls[0]?.name, 'get_weather');
      assert.equal(typeof (JSON.parse(calls[0]?.arguments ?? '') as { location?: unknown }).location, 'string');
      assert.equal(answer.stream.finishReason, 'tool_calls');
    });

    test('parallel tool calls: one index each, distinct ids, arguments exact', async () => {
      const answer = await both(provider, { ...user('Please call every tool'), tools: [weatherTool, timeTool] });
      assertSameAnswer(answer);
      assert.deepEqual(answer.stream.toolCalls.map((call) => call.name), ['get_weather', 'get_time']);
      assert.equal(new Set(answer.stream.toolCalls.map((call) => call.id)).size, 2);
      assert.ok(['UTC', 'Europe/Paris'].includes((JSON.parse(answer.stream.toolCalls[1]?.arguments ?? '') as { timezone: string }).timezone));
    });

    test('tool results: the conversation continues to a text answer', async () => {
      const first = await adapterFor(provider).chat({ ...user('Please call every tool'), tools: [weatherTool, timeTool] }, callOptions('sim-fast'));
      const calls = first.completion.choices[0]?.message.tool_calls ?? [];
      assert.equal(calls.length, 2);
      const followUp: ChatRequest = {
        model: 'sim-fast',
        tools: [weatherTool, timeTool],
        messages: [
          { role: 'user', content: 'Please call every tool' },
          { role: 'assistant', content: null, tool_calls: calls },
          { role: 'tool', tool_call_id: calls[0]?.id ?? '', content: '{"temperature":18}' },
          { role: 'tool', tool_call_id: calls[1]?.id ?? '', content: '12:00' },
        ],
      };
      const answer = await both(provider, followUp);
      assertSameAnswer(answer);
      assert.equal(answer.completion.choices[0]?.finish_reason, 'stop');
      assert.ok(textOf(answer.completion).length > 0);
      // The tool results were counted: more prompt than the turns without them.
      assert.ok((answer.completion.usage?.prompt_tokens ?? 0) > 3 + 4 + 4);
    });

    test('images reach the upstream (85 prompt tokens each), inline and by URL', async () => {
      const textOnly = await adapterFor(provider).chat(user('Describe this'), callOptions('sim-fast'));
      const withImage: ChatRequest = {
        model: 'sim-fast',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Describe this' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
            ],
          },
        ],
      };
      const answer = await both(provider, withImage);
      assertSameAnswer(answer);
      assert.equal(answer.completion.usage?.prompt_tokens, (textOnly.completion.usage?.prompt_tokens ?? 0) + 2 * 85);
    });

    test('stop sequences: the text ends before the first match, finish stop', async () => {
      const free = await adapterFor(provider).chat(user('Tell me a story'), callOptions('sim-fast'));
      const text = textOf(free.completion);
      const stop = ` ${text.split(' ')[3]}`;
      const answer = await both(provider, { ...user('Tell me a story'), stop: [stop] });
      assertSameAnswer(answer);
      assert.equal(textOf(answer.completion), text.slice(0, text.indexOf(stop)));
      assert.equal(answer.completion.choices[0]?.finish_reason, 'stop');
    });

    test('length stop: max_tokens words, finish length', async () => {
      const answer = await both(provider, { ...user('Tell me a story'), max_tokens: 3 });
      assertSameAnswer(answer);
      assert.equal(answer.completion.choices[0]?.finish_reason, 'length');
      assert.equal(answer.completion.usage?.completion_tokens, 3);
      assert.equal(answer.stream.text.split(' ').length, 3);
    });

    test('content filter on the output: finish content_filter, streamed or not', async () => {
      const answer = await both(provider, user('Tell me a story'), { 'x-sim-fault': 'block=output' });
      assertSameAnswer(answer);
      assert.equal(answer.completion.choices[0]?.finish_reason, 'content_filter');
    });
  });
}

describe('content-policy block of the prompt, in each provider’s terms', () => {
  const headers = { 'x-sim-fault': 'block=prompt' };
  const refused = (code: ErrorCode, publicCode: string) => (error: unknown) =>
    error instanceof GatewayError && error.code === code && error.status === 400 && !error.retryable && error.publicCode === publicCode;

  test('openai: a 400 with code content_filter, not retryable', async () => {
    await assert.rejects(adapterFor('openai').chat(user('x'), callOptions('sim-fast', headers)), refused('BW_ERR_UPSTREAM_REJECTED', 'content_filter'));
  });

  test('azure-openai: Azure’s 400 with code content_filter, not retryable', async () => {
    await assert.rejects(adapterFor('azure-openai').chat(user('x'), callOptions('sim-fast', headers)), refused('BW_ERR_UPSTREAM_REJECTED', 'content_filter'));
  });

  test('anthropic: an empty answer with finish content_filter (stop_reason refusal)', async () => {
    const answer = await both('anthropic', user('x'), headers);
    assertSameAnswer(answer);
    assert.equal(answer.stream.text, '');
    assert.equal(answer.completion.choices[0]?.finish_reason, 'content_filter');
  });

  test('gemini: BW_ERR_CONTENT_POLICY, streamed or not, before any chunk', async () => {
    const adapter = adapterFor('gemini');
    await assert.rejects(adapter.chat(user('x'), callOptions('sim-fast', headers)), refused('BW_ERR_CONTENT_POLICY', 'content_policy_violation'));
    const stream = await adapter.chatStream({ ...user('x'), stream: true }, callOptions('sim-fast', headers));
    await assert.rejects(stream[Symbol.asyncIterator]().next(), refused('BW_ERR_CONTENT_POLICY', 'content_policy_violation'));
  });
});

describe('scripted errors, in each provider’s own error shape, mapped alike', () => {
  const cases: Array<{ fault: string; status: number; code: ErrorCode; retryable: boolean; publicCode?: string; retryAfterMs?: number }> = [
    { fault: 'status=429;retry-after=2', status: 429, code: 'BW_ERR_UPSTREAM_RATE_LIMITED', retryable: true, retryAfterMs: 2_000 },
    { fault: 'status=503', status: 503, code: 'BW_ERR_UPSTREAM_UNAVAILABLE', retryable: true },
    { fault: 'status=500', status: 502, code: 'BW_ERR_UPSTREAM_SERVER_ERROR', retryable: true },
    { fault: 'status=400;code=context_length_exceeded', status: 400, code: 'BW_ERR_UPSTREAM_REJECTED', retryable: false, publicCode: 'context_length_exceeded' },
    { fault: 'status=401', status: 502, code: 'BW_ERR_UPSTREAM_AUTH', retryable: false },
  ];
  for (const provider of providerNames) {
    for (const expected of cases) {
      test(`${provider}: ${expected.fault} → ${expected.status} ${expected.publicCode ?? expected.code}, retryable ${expected.retryable}`, async () => {
        const adapter = adapterFor(provider);
        const headers = { 'x-sim-fault': expected.fault };
        const check = (error: unknown) => {
          assert.ok(error instanceof GatewayError, String(error));
          assert.equal(error.code, expected.code);
          assert.equal(error.status, expected.status);
          assert.equal(error.retryable, expected.retryable);
          if (expected.publicCode) assert.equal(error.publicCode, expected.publicCode);
          if (expected.retryAfterMs) assert.equal(error.retryAfterMs, expected.retryAfterMs);
          return true;
        };
        await assert.rejects(adapter.chat(user('x'), callOptions('sim-fast', headers)), check);
        await assert.rejects(adapter.chatStream({ ...user('x'), stream: true }, callOptions('sim-fast', headers)), check);
      });
    }
  }

  for (const provider of providerNames) {
    test(`${provider}: a stream cut mid-way fails as a retryable connection error, never a silent end`, async () => {
      const stream = await adapterFor(provider).chatStream({ ...user('Tell me a story'), stream: true }, callOptions('sim-fast', { 'x-sim-fault': 'cut-after=4' }));
      await assert.rejects(collectStream(stream), (error: unknown) => error instanceof GatewayError && error.code === 'BW_ERR_UPSTREAM_CONNECTION' && error.retryable);
    });
  }
});

test('the simulator’s Azure routes: the deployment names the model, api-version is required, embeddings too', async () => {
  const post = (path: string, body: unknown) => fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const missingVersion = await post('/openai/deployments/sim-fast/chat/completions', { messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(missingVersion.status, 404);
  const chat = await post('/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21', { messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(chat.status, 200);
  assert.equal(((await chat.json()) as { model: string }).model, 'my-deployment');
  const embeddings = await post('/openai/deployments/my-embedder/embeddings?api-version=2024-10-21', { input: ['a', 'b'] });
  assert.equal(embeddings.status, 200);
  assert.equal(((await embeddings.json()) as { data: unknown[] }).data.length, 2);
});
