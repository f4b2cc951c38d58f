// The Anthropic adapter: the Messages API (JSON and SSE) behind the canonical OpenAI chat format.
import { GatewayError } from '../../core/errors.js';
import type { ChatRequest, EmbeddingsRequest, StreamChunk } from '../../core/types.js';
import type { ProviderConfig } from '../../config/schema.js';
import { UpstreamClient, type UpstreamCall } from '../http-client.js';
import { parseJsonBody } from '../openai/response.js';
import { readTranslatedStream } from '../translated-stream.js';
import type { CallOptions, ChatResult, EmbeddingsResult, ProviderAdapter } from '../types.js';
import { mapAnthropicError } from './errors.js';
import { anthropicRequestBody, defaultAnthropicMaxTokens } from './request.js';
import { completionFromAnthropic, isAnthropicResponse } from './response.js';
import { AnthropicStreamTranslator } from './stream.js';
import type { AnthropicResponse } from './wire-types.js';
import { withHeader } from '../../core/objects.js';

export const defaultAnthropicBaseUrl = 'https://api.anthropic.com';
/** The API version the request and response shapes here follow (sent as `anthropic-version`). */
export const anthropicVersion = '2023-06-01';

export interface AnthropicAdapterOptions {
  config: ProviderConfig;
  /** Overrides config.base_url (the in-process simulator knows its URL only once started). */
  baseUrl?: string;
  /** Reported as the adapter's type (a `sim` provider speaking Anthropic stays `sim`). */
  type?: string;
  forwardHeaderNames?: readonly string[];
}

export class AnthropicAdapter implements ProviderAdapter {
  readonly name: string;
  readonly type: string;
  readonly forwardHeaderNames: readonly string[];
  private readonly client: UpstreamClient;
  private readonly baseHeaders: Record<string, string>;
  private readonly defaultMaxTokens: number;

  constructor(options: AnthropicAdapterOptions) {
    const { config } = options;
    this.name = config.name;
    this.type = options.type ?? config.type;
    this.forwardHeaderNames = options.forwardHeaderNames ?? [];
    this.defaultMaxTokens = config.default_max_tokens ?? defaultAnthropicMaxTokens;
    this.baseHeaders = {
      'content-type': 'application/json',
      accept: 'application/json',
      'anthropic-version': anthropicVersion,
      // Operators may add `anthropic-beta` or pin another version through `headers`.
      ...(config.headers ?? {}),
      ...(config.api_key ? { 'x-api-key': config.api_key } : {}),
    };
    this.client = new UpstreamClient({
      provider: this.name,
      baseUrl: options.baseUrl ?? config.base_url ?? defaultAnthropicBaseUrl,
      timeouts: config.timeouts,
      maxConnections: config.max_connections,
      maxResponseBytes: config.max_response_bytes,
    });
  }

  async start(): Promise<void> {}

  async chat(request: ChatRequest, options: CallOptions): Promise<ChatResult> {
    const body = anthropicRequestBody(request, { upstreamModel: options.upstreamModel, stream: false, defaultMaxTokens: this.defaultMaxTokens });
    const call = await this.client.send('/v1/messages', 'POST', this.headers(options, 'application/json'), JSON.stringify(body), options.signal, options.upstreamModel);
    const text = await this.client.readText(call);
    if (call.statusCode !== 200) throw mapAnthropicError(this.name, call.statusCode, call.headers, text);
    const message = parseJsonBody<AnthropicResponse>(this.name, call.headers['content-type'], text, isAnthropicResponse);
    const completion = completionFromAnthropic(this.name, message);
    return { completion, raw: JSON.stringify(completion) };
  }

  async chatStream(request: ChatRequest, options: CallOptions): Promise<AsyncIterable<StreamChunk>> {
    const body = anthropicRequestBody(request, { upstreamModel: options.upstreamModel, stream: true, defaultMaxTokens: this.defaultMaxTokens });
    const call = await this.client.send('/v1/messages', 'POST', this.headers(options, 'text/event-stream'), JSON.stringify(body), options.signal, options.upstreamModel);
    if (call.statusCode !== 200) throw mapAnthropicError(this.name, call.statusCode, call.headers, await this.client.readText(call));
    this.requireEventStream(call);
    return readTranslatedStream(this.name, call, new AnthropicStreamTranslator(this.name));
  }

  async embeddings(_request: EmbeddingsRequest, _options: CallOptions): Promise<EmbeddingsResult> {
    throw new GatewayError('BW_ERR_INVALID_REQUEST', `provider ${this.name} (Anthropic) has no embeddings API; route embeddings to another provider`, {
      param: 'model',
      publicCode: 'unsupported_endpoint',
    });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private headers(options: CallOptions, accept: string): Record<string, string> {
    const headers = withHeader(this.baseHeaders, 'accept', accept);
    headers['x-request-id'] = options.requestId;
    if (options.forwardHeaders) Object.assign(headers, options.forwardHeaders);
    return headers;
  }

  private requireEventStream(call: UpstreamCall): void {
    const contentType = String(call.headers['content-type'] ?? '');
    if (contentType.includes('text/event-stream')) return;
    call.body.destroy();
    call.finish();
    throw new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${this.name} answered a stream request with content type ${contentType || '(none)'}`, {
      upstreamKind: 'bad_response',
      provider: this.name,
    });
  }
}
