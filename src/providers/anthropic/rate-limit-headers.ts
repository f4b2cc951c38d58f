// Anthropic's `anthropic-ratelimit-*-reset` headers (RFC 3339 times) as a wait hint, for 429/529 answers without Retry-After.

type Headers = Record<string, string | string[] | undefined>;

/** The limits Anthropic reports, each as `anthropic-ratelimit-<limit>-remaining` and `-reset`. */
const limits = ['requests', 'tokens', 'input-tokens', 'output-tokens'] as const;

// A reset hint further out than this is treated as clock skew or garbage, not as a reason to park a deployment for long.
const longestHintMs = 5 * 60 * 1000;

/**
 * Milliseconds until the limit that refused the request refills, or undefined when no reset header is usable.
 * The limits whose `-remaining` is 0 are the ones that refused: the request can pass once the last of them resets.
 * Without a `-remaining` of 0 the earliest reset is the hint (the executor's own backoff still applies after it).
 */
export function rateLimitResetWait(headers: Headers, now: number): number | undefined {
  const resets: Array<{ waitMs: number; exhausted: boolean }> = [];
  for (const limit of limits) {
    const reset = single(headers[`anthropic-ratelimit-${limit}-reset`])?.trim();
    if (!reset || !rfc3339.test(reset)) continue;
    const at = Date.parse(reset);
    if (Number.isNaN(at)) continue;
    const waitMs = Math.max(0, at - now);
    if (waitMs > longestHintMs) continue;
    resets.push({ waitMs, exhausted: single(headers[`anthropic-ratelimit-${limit}-remaining`])?.trim() === '0' });
  }
  if (resets.length === 0) return undefined;
  const exhausted = resets.filter((reset) => reset.exhausted);
  return exhausted.length > 0 ? Math.max(...exhausted.map((reset) => reset.waitMs)) : Math.min(...resets.map((reset) => reset.waitMs));
}

// `2026-11-23T13:45:07Z`, fractional seconds and numeric offsets allowed; HTTP-dates and bare numbers are not RFC 3339.
const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
