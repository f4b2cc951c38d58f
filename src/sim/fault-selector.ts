// Chooses the fault for one request: the x-sim-fault header if present, else the first configured fault that matches.

import { faultHasEffect, parseFaultSpec, type FaultEndpoint, type FaultSpec } from './fault-spec.js';

export interface FaultTarget {
  endpoint: FaultEndpoint;
  model: string | undefined;
}

interface ConfiguredFault {
  spec: FaultSpec;
  used: number;
}

// Header specs repeat across requests (benchmarks send the same one thousands of times), so parsing is cached.
const parseCacheLimit = 1024;

export class FaultSelector {
  private readonly configured: ConfiguredFault[];
  private readonly headerUses = new Map<string, number>();
  private readonly parseCache = new Map<string, FaultSpec>();

  constructor(configuredFaults: readonly FaultSpec[]) {
    this.configured = configuredFaults.map((spec) => ({ spec, used: 0 }));
  }

  /** Parses a header spec, throwing the parse error for the caller to turn into a 400. */
  parseHeader(text: string): FaultSpec {
    const cached = this.parseCache.get(text);
    if (cached !== undefined) return cached;
    const spec = parseFaultSpec(text);
    if (this.parseCache.size >= parseCacheLimit) this.parseCache.clear();
    this.parseCache.set(text, spec);
    return spec;
  }

  /**
   * Returns the fault to apply and counts it against its `times`, or undefined for a normal response.
   * A header spec is keyed by its text plus x-sim-fault-key, so separate tests can share one simulator.
   */
  select(header: { text: string; spec: FaultSpec; key: string | undefined } | undefined, target: FaultTarget): FaultSpec | undefined {
    if (header !== undefined) {
      const { spec } = header;
      if (!faultHasEffect(spec) || !matches(spec, target)) return undefined;
      if (spec.times === undefined) return spec;
      const useKey = `${header.text}\u0000${header.key ?? ''}`;
      const used = this.headerUses.get(useKey) ?? 0;
      if (used >= spec.times) return undefined;
      this.headerUses.set(useKey, used + 1);
      return spec;
    }
    for (const fault of this.configured) {
      if (!faultHasEffect(fault.spec) || !matches(fault.spec, target)) continue;
      if (fault.spec.times !== undefined && fault.used >= fault.spec.times) continue;
      fault.used++;
      return fault.spec;
    }
    return undefined;
  }

  /** Forgets how often each fault has fired, so `times` counts start again. */
  reset(): void {
    this.headerUses.clear();
    for (const fault of this.configured) fault.used = 0;
  }
}

function matches(spec: FaultSpec, target: FaultTarget): boolean {
  return (spec.endpoint === undefined || spec.endpoint === target.endpoint) && (spec.model === undefined || spec.model === target.model);
}
