// The Gemini adapter: Google AI generateContent / streamGenerateContent (SSE) and batchEmbedContents behind the canonical OpenAI format.
import { GatewayError } from '../../core/errors.js';
import type { ChatRequest, EmbeddingsRequest, StreamChunk } from '../../core/types.js';
import type { ProviderConfig } from '../../config/schema.js';
import { UpstreamClient } from '../http-client.js';
import { parseJsonBody } from '../openai/response.js';
import { readTranslatedStream } from '../translated-stream.js';
import type { CallOptions, ChatResult, EmbeddingsResult, ProviderAdapter } from '../types.js';
import { batchEmbedBody, embeddingsFromGemini, isBatchEmbedResponse, type BatchEmbedResponse } from './embeddings.js';
import { mapGeminiError } from './errors.js';
import { geminiModelPath, geminiRequestBody } from './request.js';
import { completionFromGemini, isGeminiResponse } from './response.js';
import { GeminiStreamTranslator } from './stream.js';
import type { GeminiResponse } from './wire-types.js';
import { withHeader } from '../../core/objects.js';

export const defaultGeminiBaseUrl = 'https://generativelanguage.googleapis.com';

export interface GeminiAdapterOptions {
  config: ProviderConfig;
  /** Overrides config.base_url (the in-process simulator knows its URL only once started). */
  baseUrl?: string;
  /** Reported as the adapter's type (a `sim` provider speaking Gemini stays `sim`). */
  type?: string;
  forwardHeaderNames?: readonly string[];
}

export class GeminiAdapter implements ProviderAdapter {
  readonly name: string;
  readonly type: string;
  readonly forwardHeaderNames: readonly string[];
  private readonly client: UpstreamClient;
  private readonly baseHeaders: Record<string, string>;

  constructor(options: GeminiAdapterOptions) {
    const { config } = options;
    this.name = config.name;
    this.type = options.type ?? config.type;
    this.forwardHeaderNames = options.forwardHeaderNames ?? [];
    this.baseHeaders = {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(config.headers ?? {}),
      // The key goes in a header, never in the URL's ?key=, so it stays out of access logs.
      ...(config.api_key ? { 'x-goog-api-key': config.api_key } : {}),
    };
    this.client = new UpstreamClient({
      provider: this.name,
      baseUrl: options.baseUrl ?? config.base_url ?? defaultGeminiBaseUrl,
      timeouts: config.timeouts,
      maxConnections: config.max_connections,
      maxResponseBytes: config.max_response_bytes,
    });
  }

  async start(): Promise<void> {}

  async chat(request: ChatRequest, options: CallOptions): Promise<ChatResult> {
    const path = geminiModelPath(options.upstreamModel, 'generateContent');
    const call = await this.client.send(path, 'POST', this.headers(options, 'application/json'), JSON.stringify(geminiRequestBody(request)), options.signal, options.upstreamModel);
    const text = await this.client.readText(call);
    if (call.statusCode !== 200) throw mapGeminiError(this.name, call.statusCode, call.headers, text);
    const response = parseJsonBody<GeminiResponse>(this.name, call.headers['content-type'], text, isGeminiResponse);
    const completion = completionFromGemini(this.name, response, options.upstreamModel);
    return { completion, raw: JSON.stringify(completion) };
  }

  async chatStream(request: ChatRequest, options: CallOptions): Promise<AsyncIterable<StreamChunk>> {
    const path = `${geminiModelPath(options.upstreamModel, 'streamGenerateContent')}?alt=sse`;
    const call = await this.client.send(path, 'POST', this.headers(options, 'text/event-stream'), JSON.stringify(geminiRequestBody(request)), options.signal, options.upstreamModel);
    if (call.statusCode !== 200) throw mapGeminiError(this.name, call.statusCode, call.headers, await this.client.readText(call));
    const contentType = String(call.headers['content-type'] ?? '');
    if (!contentType.includes('text/event-stream')) {
      call.body.destroy();
      call.finish();
      throw new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${this.name} answered a stream request with content type ${contentType || '(none)'}`, {
        upstreamKind: 'bad_response',
        provider: this.name,
      });
    }
    return readTranslatedStream(this.name, call, new GeminiStreamTranslator(this.name, options.upstreamModel));
  }

  async embeddings(request: EmbeddingsRequest, options: CallOptions): Promise<EmbeddingsResult> {
    const body = batchEmbedBody(request, options.upstreamModel);
    const path = geminiModelPath(options.upstreamModel, 'batchEmbedContents');
    const call = await this.client.send(path, 'POST', this.headers(options, 'application/json'), JSON.stringify(body), options.signal, options.upstreamModel);
    const text = await this.client.readText(call);
    if (call.statusCode !== 200) throw mapGeminiError(this.name, call.statusCode, call.headers, text);
    const parsed = parseJsonBody<BatchEmbedResponse>(this.name, call.headers['content-type'], text, isBatchEmbedResponse);
    const response = embeddingsFromGemini(parsed, request, options.upstreamModel);
    return { response, raw: JSON.stringify(response) };
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
}
