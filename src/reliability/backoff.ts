// Exponential backoff with full jitter: a random wait in [0, min(cap, base × 2^attempt)].
// Full jitter spreads retries of many clients evenly instead of in synchronised waves.

export interface BackoffSettings {
  base_ms: number;
  cap_ms: number;
}

/** `retry` counts from 1 (the first retry). */
export function fullJitterDelay(settings: BackoffSettings, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(settings.cap_ms, settings.base_ms * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}
