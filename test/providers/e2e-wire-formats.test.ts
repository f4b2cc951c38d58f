// End to end through the real server: an OpenAI-format client (the official SDK) → gateway → a simulated Anthropic
// or Gemini upstream, streamed, with the upstream's own token counts in the final usage chunk; and a cross-provider
// fallback from a failing simulated OpenAI upstream to a simulated Anthropic one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { postJson, sseData, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let server: TestGateway;
let client: OpenAI;
const prompt = 'Tell me about the harbor';

before(async () => {
  server = await startTestGateway({
    providers: [
      { name: 'claude', type: 'sim', wire: 'anthropic', models: ['claude-sim'] },
      { name: 'gemini', type: 'sim', wire: 'gemini', models: ['gemini-sim', 'gemini-embed'] },
      { name: 'primary', type: 'sim', models: [], faults: ['status=503'] },
    ],
    routes: [{ model: 'chain', candidates: [{ provider: 'primary', model: 'sim-fast' }, { provider: 'claude', model: 'claude-sim' }] }],
  });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(() => server.close());

interface UpstreamAnswer {
  text: string;
  promptTokens: number;
  completionTokens: number;
}

/** Asks the simulator directly, in its own wire format, what it answers and counts for the prompt. */
async function askUpstream(wire: 'anthropic' | 'gemini', model: string): Promise<UpstreamAnswer> {
  const sim = server.sim(wire === 'anthropic' ? 'claude' : 'gemini');
  if (wire === 'anthropic') {
    // max_tokens as the adapter sends it by default, so the simulator plans the same answer.
    const response = await postJson(`${sim.url}/v1/messages`, { model, max_tokens: 4096, messages: [{ role: 'user', content: prompt }] });
    const message = response.json() as { content: Array<{ text: string }>; usage: { input_tokens: number; output_tokens: number } };
    return { text: message.content[0]?.text ?? '', promptTokens: message.usage.input_tokens, completionTokens: message.usage.output_tokens };
  }
  const response = await postJson(`${sim.url}/v1beta/models/${model}:generateContent`, { contents: [{ role: 'user', parts: [{ text: prompt }] }] });
  const body = response.json() as { candidates: Array<{ content: { parts: Array<{ text: string }> } }>; usageMetadata: { promptTokenCount: number; candidatesTokenCount: number } };
  return { text: body.candidates[0]?.content.parts[0]?.text ?? '', promptTokens: body.usageMetadata.promptTokenCount, completionTokens: body.usageMetadata.candidatesTokenCount };
}

for (const [wire, model] of [
  ['anthropic', 'claude-sim'],
  ['gemini', 'gemini-sim'],
] as const) {
  describe(`OpenAI client → gateway → simulated ${wire} upstream`, () => {
    test('streamed: the text arrives in chunks and the final chunk carries the upstream’s usage', async () => {
      const upstream = await askUpstream(wire, model);
      const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }], stream: true, stream_options: { include_usage: true } });
      let text = '';
      let contentChunks = 0;
      let lastUsage: OpenAI.CompletionUsage | null | undefined;
      let finishReason: string | null | undefined;
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta.content;
        if (delta) {
          text += delta;
          contentChunks++;
        }
        finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
        lastUsage = chunk.usage;
      }
      assert.equal(text, upstream.text);
      assert.ok(contentChunks > 1, 'streamed in pieces, not in one block');
      assert.equal(finishReason, 'stop');
      assert.equal(lastUsage?.prompt_tokens, upstream.promptTokens);
      assert.equal(lastUsage?.completion_tokens, upstream.completionTokens);
      assert.equal(lastUsage?.total_tokens, upstream.promptTokens + upstream.completionTokens);
    });

    test('streamed without include_usage: no usage chunk reaches the client, but the request log counts the tokens', async () => {
      const upstream = await askUpstream(wire, model);
      const response = await postJson(`${server.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: prompt }], stream: true }, { 'x-request-id': `no-usage-${wire}` });
      const events = sseData(response.text);
      assert.equal(events.at(-1), '[DONE]');
      for (const event of events.slice(0, -1)) assert.equal((JSON.parse(event) as { usage?: unknown }).usage ?? null, null);
      const line = server.logs.map((entry) => JSON.parse(entry) as Record<string, unknown>).find((entry) => entry.request_id === `no-usage-${wire}` && entry.prompt_tokens !== undefined);
      assert.ok(line, 'a request log line for the stream');
      assert.equal(line.prompt_tokens, upstream.promptTokens);
      assert.equal(line.completion_tokens, upstream.completionTokens);
    });

    test('not streamed: the completion and its usage, with the provider named in the headers', async () => {
      const upstream = await askUpstream(wire, model);
      const response = await client.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }] }).withResponse();
      assert.equal(response.data.choices[0]?.message.content, upstream.text);
      assert.equal(response.data.usage?.prompt_tokens, upstream.promptTokens);
      assert.equal(response.response.headers.get('x-breakwater-provider'), wire === 'anthropic' ? 'claude' : 'gemini');
    });

    test('an upstream error in the provider’s own shape reaches the client as the OpenAI SDK’s typed error', async () => {
      const failing = client.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }] }, { headers: { 'x-sim-fault': 'status=400;code=context_length_exceeded' } });
      await assert.rejects(failing, (error: unknown) => error instanceof OpenAI.BadRequestError && (error.code as string | null | undefined) === 'context_length_exceeded');
    });
  });
}

test('gemini embeddings through the gateway come back in the OpenAI shape', async () => {
  const result = await client.embeddings.create({ model: 'gemini-embed', input: ['harbor walls', 'quiet water'] });
  assert.equal(result.data.length, 2);
  assert.equal(result.data[0]?.embedding.length, 256);
});

test('cross-provider fallback: the simulated OpenAI primary fails, the simulated Anthropic upstream serves the stream with its usage', async () => {
  const upstream = await askUpstream('anthropic', 'claude-sim');
  const { data: stream, response } = await client.chat.completions
    .create({ model: 'chain', messages: [{ role: 'user', content: prompt }], stream: true, stream_options: { include_usage: true } })
    .withResponse();
  assert.equal(response.headers.get('x-breakwater-provider'), 'claude');
  let text = '';
  let lastUsage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    lastUsage = chunk.usage;
  }
  assert.equal(text, upstream.text);
  assert.equal(lastUsage?.prompt_tokens, upstream.promptTokens);
  assert.equal(lastUsage?.completion_tokens, upstream.completionTokens);
  assert.ok(server.sim('primary').stats().faulted >= 1, 'the primary was tried first and failed');
});
