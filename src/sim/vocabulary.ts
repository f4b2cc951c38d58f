// The fixed word list simulated completions are drawn from; one word is one completion token.

export const vocabulary: readonly string[] = [
  'the', 'gateway', 'routes', 'each', 'request', 'to', 'a', 'healthy', 'provider', 'and', 'retries',
  'when', 'upstream', 'fails', 'with', 'backoff', 'breaker', 'opens', 'after', 'errors', 'budget',
  'limits', 'tokens', 'per', 'minute', 'cache', 'returns', 'stored', 'answers', 'quickly', 'stream',
  'chunks', 'arrive', 'in', 'order', 'latency', 'stays', 'low', 'under', 'load', 'models', 'reply',
  'calmly', 'simulated', 'output', 'is', 'deterministic', 'for', 'every', 'prompt', 'harbor', 'waves',
  'break', 'on', 'stone', 'walls', 'while', 'ships', 'rest', 'safely', 'inside', 'quiet', 'water', 'today',
];

/** Each word as the JSON string of a later token (`" word"`), precomputed so streaming does no escaping. */
export const spacedWordJson: readonly string[] = vocabulary.map((word) => JSON.stringify(` ${word}`));

/** Each word as the JSON string of a first token (`"word"`, no leading space). */
export const bareWordJson: readonly string[] = vocabulary.map((word) => JSON.stringify(word));
