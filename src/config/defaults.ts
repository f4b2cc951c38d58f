// Embedded defaults: the config used when there is no file, built from the environment alone.
// The simulator is always on (models `sim-*`), so `npm start` serves with no keys at all.

export const simModels = ['sim-fast', 'sim-smart', 'sim-embed'];

export function embeddedDefaults(environment: NodeJS.ProcessEnv): Record<string, unknown> {
  const providers: Array<Record<string, unknown>> = [{ name: 'sim', type: 'sim', models: simModels }];
  const openaiKey = environment.OPENAI_API_KEY;
  const openaiBaseUrl = environment.OPENAI_BASE_URL;
  if (openaiKey || openaiBaseUrl) {
    // As the OpenAI SDK does: OPENAI_BASE_URL points at any OpenAI-compatible server; the key may be absent then.
    providers.push({
      name: 'openai',
      type: openaiBaseUrl ? 'openai-compatible' : 'openai',
      ...(openaiBaseUrl ? { base_url: openaiBaseUrl } : {}),
      ...(openaiKey ? { api_key: openaiKey } : {}),
      passthrough: true,
    });
  }
  const masterKey = environment.BREAKWATER_MASTER_KEY;
  return { providers, ...(masterKey ? { auth: { master_key: masterKey } } : {}) };
}
