// The OpenAI adapter, also the shared base of every OpenAI-compatible server (vLLM, Ollama, llama.cpp, TGI, Groq…).
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletion, ChatRequest, EmbeddingsRequest, EmbeddingsResponse, StreamChunk } from '../../core/types.js';
import type { ProviderConfig } from '../../config/schema.js';
import { UpstreamClient } from '../http-client.js';
import type { CallOptions, ChatResult, EmbeddingsResult, ProviderAdapter } from '../types.js';
import { mapOpenAIError } from './errors.js';
import { chatBody, embeddingsBody } from './request.js';
import { isChatCompletion, isEmbeddingsResponse, parseJsonBody } from './response.js';
import { readOpenAIStream } from './stream.js';
import { withHeader } from '../../core/objects.js';

export const defaultOpenAIBaseUrl = 'https://api.openai.com/v1';

export interface OpenAIAdapterOptions {
  config: ProviderConfig;
  /** Overrides config.base_url (the in-process simulator knows its URL only once started). */
  baseUrl?: string;
  forwardHeaderNames?: readonly string[];
  /** Replaces the default `Authorization: Bearer <api_key>` (Azure OpenAI authenticates with `api-key`). */
  authHeaders?: Record<string, string>;
  /** Auth headers that change over time (a refreshed Entra ID token), asked for on every call; may throw a GatewayError. */
  authHeaderSource?: () => Promise<Record<string, string>>;
}

export class OpenAIAdapter implements ProviderAdapter {
  readonly name: string;
  readonly type: string;
  readonly forwardHeaderNames: readonly string[];
  protected client: UpstreamClient | undefined;
  private readonly config: ProviderConfig;
  private readonly baseHeaders: Record<string, string>;
  private readonly authHeaderSource: (() => Promise<Record<string, string>>) | undefined;

  constructor(options: OpenAIAdapterOptions) {
    this.authHeaderSource = options.authHeaderSource;
    this.config = options.config;
    this.name = options.config.name;
    this.type = options.config.type;
    this.forwardHeaderNames = options.forwardHeaderNames ?? [];
    this.baseHeaders = {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(options.config.headers ?? {}),
      ...(options.authHeaders ?? (options.config.api_key ? { authorization: `Bearer ${options.config.api_key}` } : {})),
      ...(options.config.organization ? { 'openai-organization': options.config.organization } : {}),
    };
    const baseUrl = options.baseUrl ?? options.config.base_url ?? defaultOpenAIBaseUrl;
    if (options.baseUrl !== undefined || options.config.type !== 'sim') this.client = this.makeClient(baseUrl);
  }

  protected makeClient(baseUrl: string): UpstreamClient {
    return new UpstreamClient({
      provider: this.name,
      baseUrl,
      timeouts: this.config.timeouts,
      maxConnections: this.config.max_connections,
      maxResponseBytes: this.config.max_response_bytes,
    });
  }

  async start(): Promise<void> {}

  /** Where an endpoint lives under the base URL; servers with other URL layouts (Azure deployments) override it. */
  protected endpointPath(endpoint: 'chat' | 'embeddings', _options: CallOptions): string {
    return endpoint === 'chat' ? '/chat/completions' : '/embeddings';
  }

  async chat(request: ChatRequest, options: CallOptions): Promise<ChatResult> {
    const client = this.requireClient();
    const call = await client.send(this.endpointPath('chat', options), 'POST', await this.headers(options), chatBody(request, options.upstreamModel, false), options.signal, options.upstreamModel);
    const text = await client.readText(call);
    if (call.statusCode !== 200) throw mapOpenAIError(this.name, call.statusCode, call.headers, text);
    const completion = parseJsonBody<ChatCompletion>(this.name, call.headers['content-type'], text, isChatCompletion);
    return { completion, raw: text };
  }

  async chatStream(request: ChatRequest, options: CallOptions): Promise<AsyncIterable<StreamChunk>> {
    const client = this.requireClient();
    const headers = await this.headers(options);
    headers.accept = 'text/event-stream';
    const call = await client.send(this.endpointPath('chat', options), 'POST', headers, chatBody(request, options.upstreamModel, true), options.signal, options.upstreamModel);
    if (call.statusCode !== 200) throw mapOpenAIError(this.name, call.statusCode, call.headers, await client.readText(call));
    const contentType = String(call.headers['content-type'] ?? '');
    if (!contentType.includes('text/event-stream')) {
      call.body.destroy();
      call.finish();
      throw new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${this.name} answered a stream request with content type ${contentType || '(none)'}`, {
        upstreamKind: 'bad_response',
        provider: this.name,
      });
    }
    return readOpenAIStream(this.name, call);
  }

  async embeddings(request: EmbeddingsRequest, options: CallOptions): Promise<EmbeddingsResult> {
    const client = this.requireClient();
    const call = await client.send(this.endpointPath('embeddings', options), 'POST', await this.headers(options), embeddingsBody(request, options.upstreamModel), options.signal, options.upstreamModel);
    const text = await client.readText(call);
    if (call.statusCode !== 200) throw mapOpenAIError(this.name, call.statusCode, call.headers, text);
    const response = parseJsonBody<EmbeddingsResponse>(this.name, call.headers['content-type'], text, isEmbeddingsResponse);
    return { response, raw: text };
  }

  async close(): Promise<void> {
    await this.client?.close();
  }

  private async headers(options: CallOptions): Promise<Record<string, string>> {
    const headers = withHeader(this.baseHeaders, 'x-request-id', options.requestId);
    if (this.authHeaderSource) Object.assign(headers, await this.authHeaderSource());
    if (options.forwardHeaders) Object.assign(headers, options.forwardHeaders);
    return headers;
  }

  private requireClient(): UpstreamClient {
    if (!this.client) throw new GatewayError('BW_ERR_UPSTREAM_CONNECTION', `provider ${this.name} is not started`, { upstreamKind: 'connection', provider: this.name });
    return this.client;
  }
}
