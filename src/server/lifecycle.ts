// Readiness and draining: /ready tells the truth, and a draining gateway refuses new work.
import type { ProviderAdapter } from '../providers/types.js';

export interface ReadinessReport {
  ready: boolean;
  draining: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
  /** Circuit-breaker state per upstream deployment (information: open breakers do not make the gateway unready). */
  breakers?: Record<string, string>;
}

export class Lifecycle {
  /** Shutting down: /ready answers 503 from the first signal on. */
  draining = false;
  /** The listener is closed: requests still arriving on open keep-alive connections are refused with 503. */
  refusingRequests = false;
  private started = false;
  private cached: { at: number; report: ReadinessReport } | undefined;

  constructor(
    private readonly providers: ReadonlyMap<string, ProviderAdapter>,
    private readonly cacheMs: number,
    private readonly breakerStates: () => Record<string, string> = () => ({}),
    private readonly now: () => number = Date.now,
  ) {}

  markStarted(): void {
    this.started = true;
    this.cached = undefined;
  }

  startDraining(): void {
    this.draining = true;
    this.cached = undefined;
  }

  stopAccepting(): void {
    this.refusingRequests = true;
  }

  readiness(): ReadinessReport {
    if (this.draining) return { ready: false, draining: true, checks: { draining: { ok: false, detail: 'shutting down: finishing in-flight requests' } } };
    const now = this.now();
    if (this.cached && now - this.cached.at < this.cacheMs) return this.cached.report;
    const checks: ReadinessReport['checks'] = {
      config: { ok: true },
      started: this.started ? { ok: true } : { ok: false, detail: 'providers are still starting' },
      providers: this.providers.size > 0 ? { ok: true, detail: [...this.providers.keys()].join(', ') } : { ok: false, detail: 'no provider is configured' },
    };
    // Open breakers are reported, not failed on: pulling every replica out of the load balancer because an
    // upstream is down would turn a provider outage into a gateway outage (and stop fallbacks from serving).
    const report = { ready: Object.values(checks).every((check) => check.ok), draining: false, checks, breakers: this.breakerStates() };
    this.cached = { at: now, report };
    return report;
  }
}
