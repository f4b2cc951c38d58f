// The `sim` provider: the simulator started in-process on a loopback port, spoken to like any OpenAI-compatible server.
import type { ProviderConfig } from '../../config/schema.js';
import { startSimServer, type SimServer } from '../../sim/index.js';
import { OpenAIAdapter } from '../openai/index.js';

/** Client headers that script the simulator per request (see README: "Simulator"). */
export const simForwardHeaders = ['x-sim-fault', 'x-sim-fault-key', 'x-sim-latency'] as const;

export class SimAdapter extends OpenAIAdapter {
  private server: SimServer | undefined;
  private readonly settings: ProviderConfig;

  constructor(config: ProviderConfig) {
    super({ config, forwardHeaderNames: simForwardHeaders });
    this.settings = config;
  }

  override async start(): Promise<void> {
    if (this.client) return; // base_url given: an external `breakwater sim` server.
    this.server = await startSimServer({
      name: this.name,
      latency: { firstTokenMs: this.settings.latency?.first_token_ms ?? 0, perTokenMs: this.settings.latency?.per_token_ms ?? 0 },
      ...(this.settings.faults ? { faults: this.settings.faults } : {}),
      models: this.settings.models.map((entry) => (typeof entry === 'string' ? entry : entry.model)),
    });
    this.client = this.makeClient(`${this.server.url}/v1`);
  }

  /** The in-process simulator, for tests that count what reached the upstream. */
  get simulator(): SimServer | undefined {
    return this.server;
  }

  override async close(): Promise<void> {
    await super.close();
    await this.server?.close();
  }
}
