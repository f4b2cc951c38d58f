// Request counters the simulator exposes at GET /sim/stats and through SimServer.stats().

/**
 * Counts cover the API surface (/v1/* and unknown paths), not /health or /sim/*, so reading the
 * stats never changes them. Every counted request ends exactly once as `completed` (the simulator
 * finished it, including a scripted cut or reset) or `aborted` (the client left first), so
 * total = completed + aborted + inFlight until a reset.
 */
export interface SimStats {
  total: number;
  chat: number;
  embeddings: number;
  models: number;
  /** Requests a scripted fault was applied to. */
  faulted: number;
  /** Requests whose client connection closed before the simulator finished responding. */
  aborted: number;
  /** Requests being handled now (a live gauge: reset does not zero it). */
  inFlight: number;
  completed: number;
}

export class SimStatsCounter {
  total = 0;
  chat = 0;
  embeddings = 0;
  models = 0;
  faulted = 0;
  aborted = 0;
  inFlight = 0;
  completed = 0;
  /** Bumped by reset, so requests begun before it do not count towards the fresh totals when they end. */
  generation = 0;

  snapshot(): SimStats {
    const { total, chat, embeddings, models, faulted, aborted, inFlight, completed } = this;
    return { total, chat, embeddings, models, faulted, aborted, inFlight, completed };
  }

  reset(): void {
    this.total = 0;
    this.chat = 0;
    this.embeddings = 0;
    this.models = 0;
    this.faulted = 0;
    this.aborted = 0;
    this.completed = 0;
    this.generation++;
  }
}
