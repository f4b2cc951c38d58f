// Loads the configuration: YAML file (or embedded defaults), ${ENV} interpolation, schema defaults, validation.
import { readFile, access } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type Config } from './schema.js';
import { ConfigError } from './config-error.js';
import { interpolate } from './interpolate.js';
import { embeddedDefaults } from './defaults.js';

export interface LoadOptions {
  /** Explicit file; when absent, `breakwater.yaml` in the working directory is used if it exists. */
  path?: string;
  environment?: NodeJS.ProcessEnv;
  /** Command-line overrides, applied last. */
  host?: string;
  port?: number;
}

export interface LoadedConfig {
  config: Config;
  /** Where it came from: a file path, or 'embedded defaults'. */
  source: string;
}

export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const environment = options.environment ?? process.env;
  const path = options.path || environment.BREAKWATER_CONFIG || (await exists('breakwater.yaml') ? 'breakwater.yaml' : undefined);
  let raw: unknown;
  let source: string;
  if (path === undefined) {
    raw = embeddedDefaults(environment);
    source = 'embedded defaults';
  } else {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new ConfigError(path, `cannot read the config file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (error) {
      throw new ConfigError(path, `invalid YAML: ${(error as Error).message}`);
    }
    source = path;
  }
  const config = validateConfig(interpolate(raw, environment));
  applyOverrides(config, environment, options);
  return { config, source };
}

/** Validates an already-parsed (and interpolated) config object and fills in defaults. */
export function validateConfig(raw: unknown): Config {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('(root)', 'expected a mapping');
  const candidate = Value.Default(ConfigSchema, structuredClone(raw));
  const issues: string[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(ConfigSchema, candidate)) {
    const path = formatPath(error.path);
    if (seen.has(path)) continue;
    seen.add(path);
    issues.push(`${path}: ${error.message === 'Expected required property' ? 'required' : lowerFirst(error.message)}`);
  }
  if (issues.length === 0) issues.push(...semanticIssues(candidate as Config));
  if (issues.length > 0) {
    const [first, ...rest] = issues;
    const separator = (first ?? '').indexOf(': ');
    throw new ConfigError((first ?? '').slice(0, separator), (first ?? '').slice(separator + 2), rest);
  }
  return candidate as Config;
}

function semanticIssues(config: Config): string[] {
  const issues: string[] = [];
  const names = new Map<string, number>();
  const models = new Map<string, string>();
  let passthrough: string | undefined;
  config.providers.forEach((provider, index) => {
    const at = `providers[${index}]`;
    if (names.has(provider.name)) issues.push(`${at}.name: duplicate provider name "${provider.name}" (also providers[${names.get(provider.name)}])`);
    names.set(provider.name, index);
    if ((provider.type === 'openai' || provider.type === 'anthropic' || provider.type === 'gemini') && !provider.api_key) issues.push(`${at}.api_key: required`);
    if (provider.type !== 'sim' && provider.wire !== undefined) issues.push(`${at}.wire: applies to type sim only`);
    if (provider.type === 'openai-compatible' && !provider.base_url) issues.push(`${at}.base_url: required`);
    if (provider.base_url !== undefined) {
      try {
        const url = new URL(provider.base_url);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') issues.push(`${at}.base_url: must be an http or https URL`);
      } catch {
        issues.push(`${at}.base_url: not a valid URL`);
      }
    }
    if (provider.type !== 'sim' && (provider.latency !== undefined || provider.faults !== undefined)) {
      issues.push(`${at}: latency and faults apply to type sim only`);
    }
    if (provider.passthrough) {
      if (passthrough !== undefined) issues.push(`${at}.passthrough: only one provider may pass unknown models through (already ${passthrough})`);
      passthrough = provider.name;
    }
    provider.models.forEach((entry, modelIndex) => {
      const publicName = typeof entry === 'string' ? entry : entry.name;
      const owner = models.get(publicName);
      if (owner !== undefined) issues.push(`${at}.models[${modelIndex}]: model "${publicName}" is already served by provider ${owner}`);
      models.set(publicName, provider.name);
    });
  });
  config.routes.forEach((route, index) => {
    const at = `routes[${index}]`;
    if (models.has(route.model)) issues.push(`${at}.model: "${route.model}" is also listed by provider ${models.get(route.model)}; a route replaces it, so list it once`);
    models.set(route.model, 'a route');
    route.candidates.forEach((candidate, candidateIndex) => {
      if (!names.has(candidate.provider)) issues.push(`${at}.candidates[${candidateIndex}].provider: no provider named "${candidate.provider}"`);
    });
  });
  return issues;
}

function applyOverrides(config: Config, environment: NodeJS.ProcessEnv, options: LoadOptions): void {
  const host = options.host ?? environment.HOST;
  if (host) config.server.host = host;
  const port = options.port ?? (environment.PORT ? Number(environment.PORT) : undefined);
  if (port !== undefined) {
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ConfigError('server.port', `invalid port ${String(port)}`);
    config.server.port = port;
  }
}

/** `/providers/1/api_key` → `providers[1].api_key`. */
function formatPath(pointer: string): string {
  if (pointer === '') return '(root)';
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
