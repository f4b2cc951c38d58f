// Canonical request → OpenAI wire body. The canonical format is OpenAI's, so this only names the upstream
// model and asks for usage on streams (needed for accounting even when the client did not ask for it).
import type { ChatRequest, EmbeddingsRequest } from '../../core/types.js';

export function chatBody(request: ChatRequest, upstreamModel: string, stream: boolean): string {
  const body: ChatRequest = Object.assign({}, request);
  body.model = upstreamModel;
  body.stream = stream;
  // Object.assign, not `{ ...options, include_usage }`: see src/core/objects.ts.
  if (stream) body.stream_options = Object.assign({}, request.stream_options, { include_usage: true });
  else delete body.stream_options;
  return JSON.stringify(body);
}

export function embeddingsBody(request: EmbeddingsRequest, upstreamModel: string): string {
  const body: EmbeddingsRequest = Object.assign({}, request);
  body.model = upstreamModel;
  return JSON.stringify(body);
}
