// A configuration problem, always naming the field it is about (`providers[1].api_key: required`).
export class ConfigError extends Error {
  readonly issues: string[];

  constructor(path: string, message: string, more: string[] = []) {
    const first = `${path}: ${message}`;
    super([first, ...more].join('\n'));
    this.name = 'ConfigError';
    this.issues = [first, ...more];
  }
}
