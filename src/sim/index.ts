// The provider simulator's public surface: start a simulated OpenAI upstream and parse fault specs.

export { startSimServer } from './sim-server.js';
export type { SimOptions, SimServer } from './sim-server.js';
export { parseFaultSpec } from './fault-spec.js';
export type { FaultEndpoint, FaultSpec } from './fault-spec.js';
export type { SimLatency } from './latency.js';
export type { SimStats } from './stats.js';
