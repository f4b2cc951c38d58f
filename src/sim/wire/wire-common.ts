// Small pieces the simulator's provider wire formats share.

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The prompt size a scripted `code=context_length_exceeded` fault claims, in each provider's own message. */
export const overLimitPromptTokens = 250_000;
