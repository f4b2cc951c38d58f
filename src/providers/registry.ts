// Builds provider adapters from the config, one per `providers[]` entry.
import type { ProviderConfig } from '../config/schema.js';
import { AnthropicAdapter } from './anthropic/index.js';
import { AzureOpenAIAdapter } from './azure-openai/index.js';
import { BedrockAdapter } from './bedrock/index.js';
import { GeminiAdapter } from './gemini/index.js';
import { OpenAIAdapter } from './openai/index.js';
import { SimAdapter } from './sim/index.js';
import type { ProviderAdapter } from './types.js';

export function createAdapter(config: ProviderConfig): ProviderAdapter {
  switch (config.type) {
    case 'openai':
    case 'openai-compatible':
      return new OpenAIAdapter({ config });
    case 'sim':
      return new SimAdapter(config);
    case 'anthropic':
      return new AnthropicAdapter({ config });
    case 'gemini':
      return new GeminiAdapter({ config });
    case 'azure-openai':
      return new AzureOpenAIAdapter(config);
    case 'bedrock':
      return new BedrockAdapter(config);
  }
}
