// Shared helpers for the simulator tests: JSON posts, SSE reading, and waiting on stats.

import type { SimServer, SimStats } from '../../src/sim/index.js';

export const chatPath = '/v1/chat/completions';

export function post(sim: SimServer, path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

export function chatBody(text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'sim-fast', messages: [{ role: 'user', content: text }], ...extra };
}

export interface EventsRead {
  /** The data of every complete SSE event, in order. */
  events: string[];
  /** Set when the body ended in an error (a cut, or our own abort) instead of cleanly. */
  error: unknown;
  /** Milliseconds since the read began at which each event arrived. */
  arrivals: number[];
}

/** Reads SSE events until the body ends or fails; never throws. */
export async function readEvents(response: Response): Promise<EventsRead> {
  const events: string[] = [];
  const arrivals: number[] = [];
  const started = performance.now();
  const decoder = new TextDecoder();
  let buffered = '';
  let error: unknown;
  const reader = response.body?.getReader();
  if (reader === undefined) return { events, error: new Error('no body'), arrivals };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let boundary = buffered.indexOf('\n\n');
      while (boundary !== -1) {
        const event = buffered.slice(0, boundary);
        buffered = buffered.slice(boundary + 2);
        if (event.startsWith('data: ')) {
          events.push(event.slice('data: '.length));
          arrivals.push(performance.now() - started);
        }
        boundary = buffered.indexOf('\n\n');
      }
    }
  } catch (caught) {
    error = caught;
  }
  return { events, error, arrivals };
}

/** Polls until the predicate holds, since the server notices a client leaving a little after it leaves. */
export async function waitForStats(sim: SimServer, predicate: (stats: SimStats) => boolean, timeoutMs = 2000): Promise<SimStats> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = sim.stats();
    if (predicate(stats)) return stats;
    if (Date.now() > deadline) throw new Error(`stats never matched: ${JSON.stringify(stats)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
