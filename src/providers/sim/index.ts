// The `sim` provider: the simulator started in-process on a loopback port (or an external one at base_url), spoken
// to in the wire format the config chooses (`wire: openai | anthropic | gemini`) through that provider's own adapter.
import { GatewayError } from '../../core/errors.js';
import type { ChatRequest, EmbeddingsRequest, StreamChunk } from '../../core/types.js';
import type { ProviderConfig } from '../../config/schema.js';
import { startSimServer, type SimServer } from '../../sim/index.js';
import { AnthropicAdapter } from '../anthropic/index.js';
import { GeminiAdapter } from '../gemini/index.js';
import { OpenAIAdapter } from '../openai/index.js';
import type { CallOptions, ChatResult, EmbeddingsResult, ProviderAdapter } from '../types.js';

/** Client headers that script the simulator per request (see README: "Simulator"). */
export const simForwardHeaders = ['x-sim-fault', 'x-sim-fault-key', 'x-sim-latency'] as const;

export class SimAdapter implements ProviderAdapter {
  readonly name: string;
  readonly type = 'sim';
  readonly forwardHeaderNames: readonly string[] = simForwardHeaders;
  private server: SimServer | undefined;
  private inner: ProviderAdapter | undefined;
  private readonly settings: ProviderConfig;

  constructor(config: ProviderConfig) {
    this.name = config.name;
    this.settings = config;
  }

  async start(): Promise<void> {
    if (this.inner) return;
    let baseUrl = this.settings.base_url; // given: an external `breakwater sim` server, used as configured.
    if (baseUrl === undefined) {
      this.server = await startSimServer({
        name: this.name,
        latency: { firstTokenMs: this.settings.latency?.first_token_ms ?? 0, perTokenMs: this.settings.latency?.per_token_ms ?? 0 },
        ...(this.settings.faults ? { faults: this.settings.faults } : {}),
        models: this.settings.models.map((entry) => (typeof entry === 'string' ? entry : entry.model)),
      });
      // OpenAI clients address `/v1/...`; Anthropic and Gemini adapters add their own `/v1/messages`, `/v1beta/...`.
      baseUrl = (this.settings.wire ?? 'openai') === 'openai' ? `${this.server.url}/v1` : this.server.url;
    }
    this.inner = this.adapterFor(baseUrl);
  }

  /** The in-process simulator, for tests that count what reached the upstream. */
  get simulator(): SimServer | undefined {
    return this.server;
  }

  chat(request: ChatRequest, options: CallOptions): Promise<ChatResult> {
    return this.requireInner().chat(request, options);
  }

  chatStream(request: ChatRequest, options: CallOptions): Promise<AsyncIterable<StreamChunk>> {
    return this.requireInner().chatStream(request, options);
  }

  embeddings(request: EmbeddingsRequest, options: CallOptions): Promise<EmbeddingsResult> {
    return this.requireInner().embeddings(request, options);
  }

  async close(): Promise<void> {
    await this.inner?.close();
    await this.server?.close();
  }

  private adapterFor(baseUrl: string): ProviderAdapter {
    const options = { config: this.settings, baseUrl, type: 'sim', forwardHeaderNames: simForwardHeaders };
    switch (this.settings.wire ?? 'openai') {
      case 'anthropic':
        return new AnthropicAdapter(options);
      case 'gemini':
        return new GeminiAdapter(options);
      case 'openai':
        return new OpenAIAdapter(options);
    }
  }

  private requireInner(): ProviderAdapter {
    if (!this.inner) throw new GatewayError('BW_ERR_UPSTREAM_CONNECTION', `provider ${this.name} is not started`, { upstreamKind: 'connection', provider: this.name });
    return this.inner;
  }
}
