// The shared (Redis) limiter behind the failure-mode guard, with an in-process limiter that serves in fail-open mode.
import { MemoryLimiter, type Clock } from './memory-limiter.js';
import type { AcquireOutcome, AcquireRequest, RateLimiter } from './rate-limiter.js';
import type { SharedBackendGuard } from './shared-backend-guard.js';

export class FailoverLimiter implements RateLimiter {
  private readonly local: MemoryLimiter;

  constructor(
    private readonly shared: RateLimiter,
    private readonly guard: SharedBackendGuard,
    clock: Clock = Date.now,
  ) {
    this.local = new MemoryLimiter(clock, 'local');
  }

  acquire(request: AcquireRequest): Promise<AcquireOutcome> {
    return this.guard.run(
      () => this.shared.acquire(request),
      () => this.local.acquire(request),
    );
  }

  async close(): Promise<void> {
    await this.local.close();
    await this.shared.close();
  }
}
