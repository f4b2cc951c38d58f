// Bedrock end to end: OpenAI and Anthropic SDKs → gateway → a fake Bedrock that checks every SigV4 signature and answers with documentation fixtures.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import Anthropic from '@anthropic-ai/sdk';
import { SignatureV4 } from '@smithy/signature-v4';
import OpenAI from 'openai';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { encodeEvents, encodeException, readFixture, type FixtureEvent } from './bedrock-event-stream.js';

const credentials = { accessKeyId: 'AKIDBREAKWATERTEST', secretAccessKey: 'fake-secret-for-tests-only', sessionToken: 'fake-session-token' };
const region = 'eu-central-1';
const authorizationShape = /^AWS4-HMAC-SHA256 Credential=AKIDBREAKWATERTEST\/(\d{8})\/eu-central-1\/bedrock\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

interface Seen {
  path: string;
  authorization: string;
  signedHeaders: string[];
  body: Record<string, unknown>;
}

const seen: Seen[] = [];
let fake: Server;
let gateway: TestGateway;
const textFixture = readFixture<{ body: unknown }>('converse-text.response.json').body;
const toolFixture = readFixture<{ body: unknown }>('converse-tool-use.response.json').body;
const toolEvents = readFixture<{ events: FixtureEvent[] }>('converse-stream-tool-use.events.json').events;
const textEvents: FixtureEvent[] = [
  { type: 'messageStart', payload: { role: 'assistant' } },
  { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'Here is a list ' } } },
  { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'of 3 pop songs.' } } },
  { type: 'contentBlockStop', payload: { contentBlockIndex: 0 } },
  { type: 'messageStop', payload: { stopReason: 'end_turn' } },
  { type: 'metadata', payload: { usage: { inputTokens: 125, outputTokens: 7, totalTokens: 132 }, metrics: { latencyMs: 300 } } },
];

async function readBody(request: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** Re-signs the request exactly as received with the AWS signer: a header changed in transit, or a wrong secret, would not match. */
async function signatureMatches(request: IncomingMessage, body: string, authorization: string, signedHeaders: string[]): Promise<boolean> {
  const amzDate = String(request.headers['x-amz-date']);
  const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = String(request.headers[name]);
  const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
  const signer = new SignatureV4({ credentials, region, service: 'bedrock', sha256: Sha256, applyChecksum: false });
  const expected = await signer.sign(
    { method: request.method ?? 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: request.url?.split('?')[0] ?? '/', query: {}, headers, body },
    { signingDate },
  );
  return expected.headers.authorization === authorization;
}

function bedrockError(response: import('node:http').ServerResponse, status: number, type: string, message: string): void {
  response.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` }).end(JSON.stringify({ message }));
}

before(async () => {
  fake = createServer((request, response) => {
    void (async () => {
      const text = await readBody(request);
      const authorization = String(request.headers.authorization ?? '');
      const shape = authorizationShape.exec(authorization);
      if (!shape || !request.headers['x-amz-date'] || request.headers['x-amz-security-token'] !== credentials.sessionToken) {
        return bedrockError(response, 403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
      }
      const signedHeaders = (shape[2] ?? '').split(';');
      if (!(await signatureMatches(request, text, authorization, signedHeaders))) {
        return bedrockError(response, 403, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
      }
      const body = JSON.parse(text) as Record<string, unknown>;
      const path = request.url ?? '';
      seen.push({ path, authorization, signedHeaders, body });
      const match = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec(path);
      const model = decodeURIComponent(match?.[1] ?? '');
      const operation = match?.[2];
      if (model.startsWith('throttle')) return bedrockError(response, 429, 'ThrottlingException', 'Too many requests, please wait before trying again.');
      if (model.startsWith('too-long')) return bedrockError(response, 400, 'ValidationException', 'Input is too long for requested model.');
      if (operation === 'converse') {
        response.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': 'b0c1d2e3-0000-4000-8000-000000000001' });
        return response.end(JSON.stringify(body.toolConfig ? toolFixture : textFixture));
      }
      if (operation === 'converse-stream') {
        response.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'b0c1d2e3-0000-4000-8000-000000000002' });
        if (model.startsWith('stream-throttle')) {
          response.write(encodeEvents(textEvents.slice(0, 2)));
          return response.end(encodeException('throttlingException', 'Too many tokens, please wait before trying again.'));
        }
        // Written in small pieces so frames straddle TCP reads.
        const bytes = encodeEvents(body.toolConfig ? toolEvents : textEvents);
        for (let start = 0; start < bytes.length; start += 50) response.write(bytes.subarray(start, start + 50));
        return response.end();
      }
      if (operation === 'invoke' && model.startsWith('amazon.titan-embed')) {
        const input = String(body.inputText);
        response.writeHead(200, { 'content-type': 'application/json' });
        return response.end(JSON.stringify({ embedding: [input.length, 0.5, -0.25], inputTextTokenCount: input.split(' ').length }));
      }
      if (operation === 'invoke' && model.startsWith('cohere.embed')) {
        const texts = body.texts as string[];
        response.writeHead(200, { 'content-type': 'application/json', 'x-amzn-bedrock-input-token-count': String(texts.length * 2) });
        return response.end(JSON.stringify({ id: 'emb-1', response_type: 'embeddings_floats', texts, embeddings: texts.map((item) => [item.length, 1]) }));
      }
      return bedrockError(response, 404, 'ResourceNotFoundException', 'Could not resolve the foundation model from the provided model identifier.');
    })().catch((error: unknown) => response.writeHead(500).end(String(error)));
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  gateway = await startTestGateway({
    // One attempt: each error below is Bedrock's own answer, mapped, not what is left after retries.
    reliability: { max_attempts: 1 },
    providers: [
      {
        name: 'bedrock',
        type: 'bedrock',
        base_url: baseUrl,
        aws: { region, access_key_id: credentials.accessKeyId, secret_access_key: credentials.secretAccessKey, session_token: credentials.sessionToken },
        models: [
          { name: 'claude-bedrock', model: 'anthropic.claude-3-5-haiku-20241022-v1:0' },
          { name: 'bedrock-throttled', model: 'throttle-model' },
          { name: 'bedrock-too-long', model: 'too-long-model' },
          { name: 'bedrock-cut', model: 'stream-throttle-model' },
          { name: 'titan', model: 'amazon.titan-embed-text-v2:0' },
          { name: 'cohere', model: 'cohere.embed-english-v3' },
        ],
      },
      { name: 'bedrock-wrong-key', type: 'bedrock', base_url: baseUrl, aws: { region, access_key_id: credentials.accessKeyId, secret_access_key: 'wrong', session_token: credentials.sessionToken }, models: ['bedrock-wrong'] },
    ],
  });
});

after(async () => {
  await gateway.close();
  fake.closeAllConnections();
  await new Promise((resolve) => fake.close(resolve));
});

const openai = () => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
const weatherTool = { type: 'function' as const, function: { name: 'top_song', parameters: { type: 'object', properties: { sign: { type: 'string' } } } } };

test('chat: signed Converse call (signature re-verified by the fake), documented answer, usage equal to Bedrock numbers', async () => {
  const completion = await openai().chat.completions.create({ model: 'claude-bedrock', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Create a list of 3 pop songs.' }], max_tokens: 300 });
  assert.match(completion.choices[0]?.message.content ?? '', /^Here is a list of 3 pop songs/);
  assert.equal(completion.choices[0]?.finish_reason, 'stop');
  assert.deepEqual(completion.usage, { prompt_tokens: 125, completion_tokens: 60, total_tokens: 185 });
  const last = seen.at(-1);
  assert.equal(last?.path, '/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse');
  assert.ok(last?.signedHeaders.includes('host') && last.signedHeaders.includes('x-amz-date') && last.signedHeaders.includes('x-amz-security-token'));
  assert.deepEqual(last?.body.system, [{ text: 'Be brief.' }]);
  assert.deepEqual(last?.body.inferenceConfig, { maxTokens: 300 });
});

test('stream: ConverseStream event stream → OpenAI chunks with two tool calls reassembled and usage in the final chunk', async () => {
  const stream = await openai().chat.completions.create({
    model: 'claude-bedrock',
    messages: [{ role: 'user', content: 'Top songs on WZPZ and WKRP?' }],
    tools: [weatherTool],
    stream: true,
    stream_options: { include_usage: true },
  });
  const calls: Array<{ id?: string; name?: string; arguments: string }> = [];
  let finish: string | null | undefined;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
      const entry = (calls[call.index] ??= { arguments: '' });
      entry.id ??= call.id;
      entry.name ??= call.function?.name;
      entry.arguments += call.function?.arguments ?? '';
    }
    finish = chunk.choices[0]?.finish_reason ?? finish;
    usage = chunk.usage ?? usage;
  }
  assert.deepEqual(calls, [
    { id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'top_song', arguments: '{"sign": "WZPZ"}' },
    { id: 'tooluse_h0QsmUNoQ8yEmSzH6yQkAw', name: 'top_song', arguments: '{"sign": "WKRP"}' },
  ]);
  assert.equal(finish, 'tool_calls');
  assert.deepEqual(usage, { prompt_tokens: 375, completion_tokens: 94, total_tokens: 469 });
  assert.equal(seen.at(-1)?.path, '/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream');
});

test('the Anthropic SDK through /v1/messages, served by Bedrock: streamed parallel tool calls and usage', async () => {
  const client = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 });
  const final = await client.messages
    .stream({ model: 'claude-bedrock', max_tokens: 300, tools: [{ name: 'top_song', input_schema: { type: 'object', properties: { sign: { type: 'string' } } } }], messages: [{ role: 'user', content: 'Top songs?' }] })
    .finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  const text = final.content.find((block) => block.type === 'text');
  assert.ok(text?.type === 'text' && text.text === "I'll look up the top songs on both stations.");
  const tools = final.content.filter((block) => block.type === 'tool_use');
  assert.deepEqual(
    tools.map((block) => (block.type === 'tool_use' ? [block.id, block.input] : [])),
    [
      ['tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', { sign: 'WZPZ' }],
      ['tooluse_h0QsmUNoQ8yEmSzH6yQkAw', { sign: 'WKRP' }],
    ],
  );
  assert.equal(final.usage.input_tokens, 375);
  assert.equal(final.usage.output_tokens, 94);
});

test('errors: throttling → 429, prompt too long → 400 context_length_exceeded, wrong secret → upstream auth (5xx)', async () => {
  const client = openai();
  await assert.rejects(client.chat.completions.create({ model: 'bedrock-throttled', messages: [{ role: 'user', content: 'x' }] }), OpenAI.RateLimitError);
  await assert.rejects(
    client.chat.completions.create({ model: 'bedrock-too-long', messages: [{ role: 'user', content: 'x' }] }),
    (error: unknown) => error instanceof OpenAI.BadRequestError && error.code === 'context_length_exceeded',
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'bedrock-wrong', messages: [{ role: 'user', content: 'x' }] }),
    // A gateway-side credential problem: a 5xx naming it (502 alone, 503 once the reliability layer has tried every candidate).
    (error: unknown) => error instanceof OpenAI.APIError && (error.status ?? 0) >= 500 && /refused the gateway's AWS credentials \(InvalidSignatureException\)/.test(error.message),
  );
});

test('what Bedrock cannot take is a 400 in the OpenAI envelope naming the field, and Bedrock is never called', async () => {
  const calls = seen.length;
  const post = async (body: Record<string, unknown>) => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-bedrock', ...body }) });
    return { status: response.status, body: (await response.json()) as { error: { message: string; type: string; param: string | null; code: string } } };
  };
  const url = await post({ messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] });
  assert.equal(url.status, 400);
  assert.equal(url.body.error.param, 'messages[0].content[1].image_url.url');
  assert.equal(url.body.error.type, 'invalid_request_error');
  assert.match(url.body.error.message, /Bedrock cannot fetch image URLs/);
  const several = await post({ n: 2, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(several.status, 400);
  assert.equal(several.body.error.param, 'n');
  assert.equal(seen.length, calls);
  // An inline image goes through as an image block.
  const inline = await openai().chat.completions.create({ model: 'claude-bedrock', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/webp;base64,UklGRg==' } }] }] });
  assert.equal(inline.choices[0]?.finish_reason, 'stop');
  assert.deepEqual((seen.at(-1)?.body.messages as Array<{ content: unknown[] }>)[0]?.content, [{ image: { format: 'webp', source: { bytes: 'UklGRg==' } } }]);
});

test('an exception event after the first chunk ends the stream with an error event, not a silent cut', async () => {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bedrock-cut', stream: true, messages: [{ role: 'user', content: 'x' }] }),
  });
  const body = await response.text();
  assert.equal(response.status, 200);
  assert.match(body, /Here is a list /);
  assert.match(body, /"code":"BW_ERR_STREAM_INTERRUPTED"/);
  assert.doesNotMatch(body, /\[DONE\]/);
});

test('embeddings: Titan (one signed InvokeModel per text) and Cohere (one batch), in the OpenAI shape', async () => {
  const before = seen.length;
  const titan = await openai().embeddings.create({ model: 'titan', input: ['hello world', 'hi'], encoding_format: 'float' });
  assert.deepEqual(
    titan.data.map((item) => item.embedding),
    [
      [11, 0.5, -0.25],
      [2, 0.5, -0.25],
    ],
  );
  assert.equal(titan.usage.prompt_tokens, 3);
  assert.equal(seen.length - before, 2);
  assert.ok(seen.slice(before).every((entry) => entry.path === '/model/amazon.titan-embed-text-v2%3A0/invoke'));
  // The SDK's default base64 encoding round-trips to the same floats.
  const cohere = await openai().embeddings.create({ model: 'cohere', input: ['a', 'bcd'] });
  assert.deepEqual(
    cohere.data.map((item) => item.embedding),
    [
      [1, 1],
      [3, 1],
    ],
  );
  assert.equal(cohere.usage.prompt_tokens, 4);
});

test('missing AWS credentials fail at start-up, naming the field', async () => {
  const { BedrockAdapter } = await import('../../src/providers/bedrock/index.js');
  const { validateConfig } = await import('../../src/config/load.js');
  const config = validateConfig({ providers: [{ name: 'b', type: 'bedrock', models: ['m'] }] }).providers[0];
  assert.ok(config);
  assert.throws(() => new BedrockAdapter(config, {}), /providers\[b\]\.aws\.region/);
  assert.throws(() => new BedrockAdapter(config, { AWS_REGION: 'us-east-1' }), /access_key_id/);
  const fromEnvironment = new BedrockAdapter(config, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' });
  await fromEnvironment.close();
});
