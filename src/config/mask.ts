// Masks secrets in a config before it is printed or logged.
const secretName = /(key|secret|token|password|authorization)/i;

export function maskSecrets(value: unknown, name = ''): unknown {
  if (typeof value === 'string') return secretName.test(name) && value.length > 0 ? '********' : value;
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item, name));
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = {};
    // Header values are masked wholesale: they are often credentials.
    for (const [key, item] of Object.entries(value)) result[key] = name === 'headers' ? '********' : maskSecrets(item, key);
    return result;
  }
  return value;
}
