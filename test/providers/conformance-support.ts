// Shared support for the provider conformance suite: a fixture replay server, every adapter built the same way,
// and a stream collector that reassembles what a client would see (text, tool calls by index, finish, usage).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import { ProviderSchema, type ProviderConfig } from '../../src/config/schema.js';
import type { ChatCompletionChunk, FinishReason, StreamChunk, Usage } from '../../src/core/types.js';
import { AnthropicAdapter } from '../../src/providers/anthropic/index.js';
import { AzureOpenAIAdapter } from '../../src/providers/azure-openai/index.js';
import { BedrockAdapter } from '../../src/providers/bedrock/index.js';
import { GeminiAdapter } from '../../src/providers/gemini/index.js';
import { OpenAIAdapter } from '../../src/providers/openai/index.js';
import type { CallOptions, ProviderAdapter } from '../../src/providers/types.js';
import { encodeEventStreamMessages, type FixtureMessage } from './bedrock-event-stream.js';

/** The wire formats the simulator speaks, each with its own adapter. */
export const providerNames = ['openai', 'anthropic', 'gemini'] as const;
export type ProviderName = (typeof providerNames)[number];
/** The adapters held to the simulator cases: the three wire formats, plus Azure OpenAI at the simulator's Azure routes. */
export const simProviderNames = [...providerNames, 'azure-openai'] as const;
export type SimProviderName = (typeof simProviderNames)[number];
/** Every adapter held to the recorded-fixture cases: the wire formats above plus Azure OpenAI and Bedrock. */
export const fixtureProviderNames = [...providerNames, 'azure-openai', 'bedrock'] as const;
export type FixtureProviderName = (typeof fixtureProviderNames)[number];

/** A recorded response: status, headers and body, an SSE body (`*.chunks.txt`) or a Bedrock event stream (`*.events.json`). */
export interface Fixture {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** Whether a fixture is a streamed answer (SSE, or AWS's binary event stream written as JSON events). */
export function isStreamFixture(file: string): boolean {
  return file.endsWith('.chunks.txt') || file.endsWith('.events.json');
}

const fixturesRoot = new URL('../../src/providers/', import.meta.url);

export function loadFixture(provider: FixtureProviderName, file: string): Fixture {
  const text = readFileSync(new URL(`${provider}/__fixtures__/${file}`, fixturesRoot), 'utf8');
  if (file.endsWith('.chunks.txt')) return { status: 200, headers: { 'content-type': 'text/event-stream' }, body: text };
  if (file.endsWith('.events.json')) {
    const { events } = JSON.parse(text) as { events: FixtureMessage[] };
    return { status: 200, headers: { 'content-type': 'application/vnd.amazon.eventstream' }, body: encodeEventStreamMessages(events) };
  }
  const parsed = JSON.parse(text) as { status: number; headers?: Record<string, string>; body: unknown };
  return { status: parsed.status, headers: { 'content-type': 'application/json', ...(parsed.headers ?? {}) }, body: JSON.stringify(parsed.body) };
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** Answers every request with the fixture it was given, and records what the adapter sent. */
export class FixtureServer {
  readonly requests: RecordedRequest[] = [];
  private server: Server | undefined;
  private fixture: Fixture | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const parts: Buffer[] = [];
      request.on('data', (part: Buffer) => parts.push(part));
      request.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        this.requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) });
        const fixture = this.fixture ?? { status: 500, headers: { 'content-type': 'text/plain' }, body: 'no fixture set' };
        response.writeHead(fixture.status, fixture.headers);
        response.end(fixture.body);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  serve(fixture: Fixture): void {
    this.fixture = fixture;
  }

  lastRequest(): RecordedRequest {
    const last = this.requests.at(-1);
    assert.ok(last, 'the adapter sent a request');
    return last;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** The adapter for a provider type, pointed at `baseUrl` (the root for Anthropic, Gemini, Azure and Bedrock, `/v1` for OpenAI). */
export function makeAdapter(provider: FixtureProviderName, baseUrl: string, extra: Partial<ProviderConfig> = {}): ProviderAdapter {
  const config = Value.Default(ProviderSchema, {
    name: `${provider}-under-test`,
    type: provider,
    api_key: `test-key-${provider}`,
    models: [],
    timeouts: { first_byte_ms: 5_000, idle_ms: 5_000, total_ms: 10_000 },
    ...extra,
  }) as ProviderConfig;
  const forwardHeaderNames = ['x-sim-fault', 'x-sim-fault-key', 'x-sim-latency'];
  if (provider === 'openai') return new OpenAIAdapter({ config, baseUrl: `${baseUrl}/v1`, forwardHeaderNames });
  if (provider === 'anthropic') return new AnthropicAdapter({ config, baseUrl, forwardHeaderNames });
  if (provider === 'azure-openai') return new AzureOpenAIAdapter({ ...config, base_url: baseUrl });
  if (provider === 'bedrock') {
    // Credentials from the config, never from this machine's environment.
    const aws = { region: 'us-east-1', access_key_id: 'AKIDEXAMPLE', secret_access_key: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', ...(extra.aws ?? {}) };
    return new BedrockAdapter({ ...config, base_url: baseUrl, aws }, {});
  }
  return new GeminiAdapter({ config, baseUrl, forwardHeaderNames });
}

export function callOptions(upstreamModel: string, forwardHeaders?: Record<string, string>): CallOptions {
  return { signal: new AbortController().signal, requestId: 'req-conformance', upstreamModel, ...(forwardHeaders ? { forwardHeaders } : {}) };
}

export interface CollectedToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** What a client reassembles from a stream. */
export interface CollectedStream {
  chunks: ChatCompletionChunk[];
  text: string;
  toolCalls: CollectedToolCall[];
  finishReason: FinishReason | null;
  usage: Usage | undefined;
}

/**
 * Reads a canonical stream as an OpenAI client would, asserting the shape every adapter must give: the role
 * first, tool-call deltas keyed by index (id and name once, then argument pieces), one finish chunk, then a
 * usage chunk with no choices last.
 */
export async function collectStream(stream: AsyncIterable<StreamChunk>): Promise<CollectedStream> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const item of stream) chunks.push(item.chunk);
  assert.ok(chunks.length >= 3, 'a stream has a role chunk, a finish chunk and a usage chunk at least');
  assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant', 'the first chunk carries the role');
  let text = '';
  const calls = new Map<number, CollectedToolCall>();
  let finishReason: FinishReason | null = null;
  let usage: Usage | undefined;
  chunks.forEach((chunk, position) => {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) {
      assert.equal(position, chunks.length - 1, 'usage comes in the last chunk');
      assert.deepEqual(chunk.choices, [], 'the usage chunk has no choices');
      usage = chunk.usage;
    }
    const choice = chunk.choices[0];
    if (!choice) return;
    assert.equal(finishReason, null, 'nothing follows the finish chunk but usage');
    if (typeof choice.delta.content === 'string') text += choice.delta.content;
    for (const delta of choice.delta.tool_calls ?? []) {
      const known = calls.get(delta.index);
      if (known === undefined) {
        assert.ok(delta.id && delta.function?.name, `tool call ${delta.index} opens with its id and name`);
        assert.equal(delta.index, calls.size, 'tool-call indexes count up from 0');
        calls.set(delta.index, { id: delta.id, name: delta.function.name, arguments: delta.function.arguments ?? '' });
      } else {
        assert.equal(delta.id, undefined, 'later deltas of a tool call carry only arguments');
        known.arguments += delta.function?.arguments ?? '';
      }
    }
    if (choice.finish_reason !== null) finishReason = choice.finish_reason;
  });
  return { chunks, text, toolCalls: [...calls.values()], finishReason, usage };
}

/** The usage numbers every case compares: prompt, completion, total (and cached prompt tokens when given). */
export function usageNumbers(usage: Usage | undefined): { prompt: number; completion: number; total: number; cached?: number } {
  assert.ok(usage, 'usage is present');
  const cached = usage.prompt_tokens_details?.cached_tokens;
  return { prompt: usage.prompt_tokens, completion: usage.completion_tokens, total: usage.total_tokens, ...(typeof cached === 'number' ? { cached } : {}) };
}
