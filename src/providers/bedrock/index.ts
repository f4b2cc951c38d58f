// The AWS Bedrock adapter: Converse / ConverseStream for chat, InvokeModel for Titan and Cohere embeddings, every call SigV4-signed.
import { GatewayError } from '../../core/errors.js';
import type { ChatRequest, EmbeddingsRequest, StreamChunk } from '../../core/types.js';
import type { ProviderConfig } from '../../config/schema.js';
import { UpstreamClient, type UpstreamCall } from '../http-client.js';
import type { CallOptions, ChatResult, EmbeddingsResult, ProviderAdapter } from '../types.js';
import { resolveAwsSettings } from './credentials.js';
import { embeddingsFamily, embeddingTexts, toEmbeddingsResponse } from './embeddings.js';
import { mapBedrockError } from './errors.js';
import { decodeEventStream, EventStreamFramingError, type EventStreamMessage } from './event-stream-decoder.js';
import { converseBody } from './request.js';
import { completionId, isConverseResponse, toChatCompletion } from './response.js';
import { RequestSigner } from './signing.js';
import { translateConverseStream } from './stream.js';
import { withHeader } from '../../core/objects.js';

const eventStreamType = 'application/vnd.amazon.eventstream';
// The event-stream format caps a message at 16 MiB; a stream's messages are far smaller.
const maxEventBytes = 16 * 1024 * 1024;
// Titan embeds one text per call: a few calls run at once, bounded.
const embeddingsConcurrency = 4;

export class BedrockAdapter implements ProviderAdapter {
  readonly name: string;
  readonly type = 'bedrock';
  readonly forwardHeaderNames: readonly string[] = [];
  private readonly baseUrl: string;
  private readonly client: UpstreamClient;
  private readonly signer: RequestSigner;
  private readonly extraHeaders: Record<string, string>;

  constructor(config: ProviderConfig, environment: NodeJS.ProcessEnv = process.env) {
    this.name = config.name;
    const aws = resolveAwsSettings(config, environment);
    this.baseUrl = (config.base_url ?? `https://bedrock-runtime.${aws.region}.amazonaws.com`).replace(/\/+$/, '');
    this.signer = new RequestSigner(aws.credentials, aws.region);
    this.extraHeaders = config.headers ?? {};
    this.client = new UpstreamClient({
      provider: this.name,
      baseUrl: this.baseUrl,
      timeouts: config.timeouts,
      maxConnections: config.max_connections,
      maxResponseBytes: config.max_response_bytes,
    });
  }

  async start(): Promise<void> {}

  async chat(request: ChatRequest, options: CallOptions): Promise<ChatResult> {
    const call = await this.send(`/model/${encodeURIComponent(options.upstreamModel)}/converse`, converseBody(request), 'application/json', options);
    const text = await this.client.readText(call);
    if (call.statusCode !== 200) throw mapBedrockError(this.name, call.statusCode, call.headers, text);
    const parsed = this.parseJson(call, text);
    if (!isConverseResponse(parsed)) throw this.badResponse('sent JSON of an unexpected shape');
    const completion = toChatCompletion(this.name, parsed, request.model, headerText(call.headers['x-amzn-requestid']));
    return { completion, raw: JSON.stringify(completion) };
  }

  async chatStream(request: ChatRequest, options: CallOptions): Promise<AsyncIterable<StreamChunk>> {
    const call = await this.send(`/model/${encodeURIComponent(options.upstreamModel)}/converse-stream`, converseBody(request), eventStreamType, options);
    if (call.statusCode !== 200) throw mapBedrockError(this.name, call.statusCode, call.headers, await this.client.readText(call));
    const contentType = headerText(call.headers['content-type']) ?? '';
    if (!contentType.includes(eventStreamType)) {
      call.body.destroy();
      call.finish();
      throw this.badResponse(`answered a stream request with content type ${contentType || '(none)'}`);
    }
    const identity = { id: completionId(headerText(call.headers['x-amzn-requestid'])), created: Math.floor(Date.now() / 1000), model: request.model };
    return translateConverseStream(this.name, this.messages(call), identity);
  }

  async embeddings(request: EmbeddingsRequest, options: CallOptions): Promise<EmbeddingsResult> {
    const family = embeddingsFamily(options.upstreamModel);
    const texts = embeddingTexts(request);
    const calls = family.calls(texts, request);
    const vectors: number[][] = new Array<number[]>(texts.length);
    let tokens = 0;
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < calls.length && !failed) {
        const planned = calls[next++];
        if (!planned) break;
        const call = await this.send(`/model/${encodeURIComponent(options.upstreamModel)}/invoke`, planned.body, 'application/json', options);
        const text = await this.client.readText(call);
        if (call.statusCode !== 200) {
          failed = true;
          throw mapBedrockError(this.name, call.statusCode, call.headers, text);
        }
        const answer = family.read(this.parseJson(call, text), call.headers, planned.indices.length);
        if (!answer) throw this.badResponse('sent an embeddings answer of an unexpected shape');
        planned.indices.forEach((position, offset) => (vectors[position] = answer.vectors[offset] ?? []));
        tokens += answer.tokens;
      }
    };
    await Promise.all(Array.from({ length: Math.min(embeddingsConcurrency, calls.length) }, worker));
    const response = toEmbeddingsResponse(request, vectors, tokens);
    return { response, raw: JSON.stringify(response) };
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async send(path: string, body: string, accept: string, options: CallOptions): Promise<UpstreamCall> {
    const unsigned = withHeader(this.extraHeaders, 'content-type', 'application/json');
    unsigned.accept = accept;
    unsigned['x-request-id'] = options.requestId;
    const headers = await this.signer.sign({ method: 'POST', url: new URL(this.baseUrl + path), headers: unsigned, body });
    return this.client.send(path, 'POST', headers, body, options.signal, options.upstreamModel);
  }

  private async *messages(call: UpstreamCall): AsyncGenerator<EventStreamMessage> {
    try {
      yield* decodeEventStream(call.body, Math.min(maxEventBytes, this.client.maxResponseBytes));
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      if (error instanceof EventStreamFramingError) {
        if (error.truncated) throw new GatewayError('BW_ERR_UPSTREAM_CONNECTION', `upstream ${this.name}: ${error.message}`, { upstreamKind: 'stream_cut', provider: this.name });
        throw this.badResponse(`sent a broken event stream (${error.message})`);
      }
      throw call.bodyError(error);
    } finally {
      call.finish();
      if (!call.body.destroyed) call.body.destroy();
    }
  }

  private parseJson(call: UpstreamCall, text: string): unknown {
    const contentType = headerText(call.headers['content-type']);
    if (!contentType?.includes('json')) throw this.badResponse(`answered with content type ${contentType ?? '(none)'} instead of JSON`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw this.badResponse('sent malformed JSON');
    }
  }

  private badResponse(message: string): GatewayError {
    return new GatewayError('BW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${this.name} ${message}`, { upstreamKind: 'bad_response', provider: this.name });
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
