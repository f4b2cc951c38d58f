// The simulator's Google AI (Gemini) wire format: generateContent / streamGenerateContent / batchEmbedContents bodies
// → the canonical request, a plan → GenerateContentResponse JSON or SSE events, and Google's `{error:{code,message,status}}`.

import type { ChatMessage, ChatRequest, ContentPart, ToolCall } from '../../core/types.js';
import type { ChatPlan } from '../chat-generation.js';
import { StreamBuilder, type RenderedStream, type ResponseIdentity } from '../chat-render.js';
import { defaultDimensions, embedWords, wordsOf } from '../embeddings.js';
import { SimRequestError } from '../error-envelope.js';
import { vocabulary } from '../vocabulary.js';
import { isRecord, overLimitPromptTokens } from './wire-common.js';

/** A Google AI model route: `/v1beta/models/{model}:{method}`. */
export interface GeminiRoute {
  model: string;
  method: string;
}

const routePattern = /^\/v1beta\/models\/([^/:]+):([A-Za-z]+)$/;

export function geminiRoute(path: string): GeminiRoute | undefined {
  const match = routePattern.exec(path);
  if (match === null) return undefined;
  let model = match[1] ?? '';
  try {
    model = decodeURIComponent(model);
  } catch {
    // Left as sent: an undecodable name simply matches no configured model.
  }
  return { model, method: match[2] ?? '' };
}

/** Google's canonical status name for an HTTP status (google.rpc.Code). */
export function geminiStatusName(status: number): string {
  const names: Record<number, string> = {
    400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ABORTED',
    429: 'RESOURCE_EXHAUSTED', 499: 'CANCELLED', 500: 'INTERNAL', 501: 'UNIMPLEMENTED', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
  };
  return names[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
}

export function geminiErrorBody(status: number, message: string, code: string | null): string {
  const text = code === 'context_length_exceeded' ? `The input token count (${overLimitPromptTokens}) exceeds the maximum number of tokens allowed (1048576).` : message;
  return JSON.stringify({ error: { code: status, message: text, status: geminiStatusName(status) } });
}

function invalid(message: string): SimRequestError {
  return new SimRequestError(400, message, { type: 'INVALID_ARGUMENT' });
}

function part(value: unknown, role: string, at: string, toolCalls: ToolCall[], toolResults: ChatMessage[]): ContentPart | undefined {
  if (!isRecord(value)) throw invalid(`Invalid value at '${at}': expected an object`);
  if (typeof value.text === 'string') return { type: 'text', text: value.text };
  const inline = value.inlineData;
  if (isRecord(inline) && typeof inline.mimeType === 'string' && typeof inline.data === 'string') {
    return { type: 'image_url', image_url: { url: `data:${inline.mimeType};base64,${inline.data}` } };
  }
  const file = value.fileData;
  if (isRecord(file) && typeof file.fileUri === 'string') return { type: 'image_url', image_url: { url: file.fileUri } };
  const call = value.functionCall;
  if (isRecord(call) && typeof call.name === 'string' && role === 'model') {
    toolCalls.push({ id: typeof call.id === 'string' ? call.id : call.name, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) } });
    return undefined;
  }
  const response = value.functionResponse;
  if (isRecord(response) && typeof response.name === 'string') {
    toolResults.push({ role: 'tool', tool_call_id: typeof response.id === 'string' ? response.id : response.name, content: JSON.stringify(response.response ?? {}) });
    return undefined;
  }
  throw invalid(`Invalid value at '${at}': unsupported part`);
}

function canonicalMessages(content: unknown, index: number): ChatMessage[] {
  const at = `contents[${index}]`;
  if (!isRecord(content) || !Array.isArray(content.parts)) throw invalid(`Invalid value at '${at}.parts': expected a list`);
  const role = content.role ?? 'user';
  if (role !== 'user' && role !== 'model') throw invalid(`Please use a valid role: user, model.`);
  const toolCalls: ToolCall[] = [];
  const toolResults: ChatMessage[] = [];
  const parts = content.parts
    .map((value: unknown, partIndex: number) => part(value, role, `${at}.parts[${partIndex}]`, toolCalls, toolResults))
    .filter((value): value is ContentPart => value !== undefined);
  const messages: ChatMessage[] = [...toolResults];
  if (parts.length > 0 || toolCalls.length > 0) {
    const message: ChatMessage = { role: role === 'model' ? 'assistant' : 'user', content: parts.length === 1 && parts[0]?.type === 'text' ? (parts[0].text ?? '') : parts };
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    messages.push(message);
  }
  return messages;
}

function systemMessage(instruction: unknown): ChatMessage[] {
  if (instruction === undefined) return [];
  if (!isRecord(instruction) || !Array.isArray(instruction.parts)) throw invalid("Invalid value at 'system_instruction': expected parts");
  const text = instruction.parts.map((value: unknown) => (isRecord(value) && typeof value.text === 'string' ? value.text : '')).join('\n');
  return [{ role: 'system', content: text }];
}

function canonicalTools(tools: unknown): unknown[] | undefined {
  if (tools === undefined) return undefined;
  if (!Array.isArray(tools)) throw invalid("Invalid value at 'tools': expected a list");
  const declarations: unknown[] = [];
  for (const tool of tools) {
    if (!isRecord(tool) || !Array.isArray(tool.functionDeclarations)) continue;
    for (const declaration of tool.functionDeclarations) {
      if (!isRecord(declaration) || typeof declaration.name !== 'string') throw invalid("Invalid value at 'tools.function_declarations': name is required");
      declarations.push({ type: 'function', function: { name: declaration.name, description: declaration.description, parameters: declaration.parameters ?? declaration.parametersJsonSchema } });
    }
  }
  return declarations.length > 0 ? declarations : undefined;
}

/** Validates a generateContent body and returns the canonical request (the model comes from the URL). */
export function geminiChatRequest(model: string, body: unknown, stream: boolean): ChatRequest {
  if (!isRecord(body)) throw invalid('The request body must be a JSON object.');
  if (!Array.isArray(body.contents) || body.contents.length === 0) throw invalid('* GenerateContentRequest.contents: contents is not specified');
  const messages = [...systemMessage(body.systemInstruction ?? body.system_instruction), ...body.contents.flatMap((content: unknown, index: number) => canonicalMessages(content, index))];
  const request: ChatRequest = { model, messages, stream };
  const config = isRecord(body.generationConfig) ? body.generationConfig : {};
  if (config.maxOutputTokens !== undefined) {
    if (typeof config.maxOutputTokens !== 'number' || !Number.isInteger(config.maxOutputTokens) || config.maxOutputTokens < 1) {
      throw invalid("Invalid value at 'generation_config.max_output_tokens': expected a positive integer");
    }
    request.max_tokens = config.maxOutputTokens;
  }
  if (Array.isArray(config.stopSequences)) request.stop = config.stopSequences.filter((item): item is string => typeof item === 'string');
  const tools = canonicalTools(body.tools);
  if (tools !== undefined) request.tools = tools;
  return request;
}

function finishReason(plan: ChatPlan): string {
  if (plan.finishReason === 'length') return 'MAX_TOKENS';
  if (plan.finishReason === 'content_filter') return 'SAFETY';
  return 'STOP';
}

function usageMetadata(plan: ChatPlan, candidates: number | undefined): Record<string, number> {
  const prompt = plan.usage.prompt_tokens;
  return candidates === undefined
    ? { promptTokenCount: prompt, totalTokenCount: prompt }
    : { promptTokenCount: prompt, candidatesTokenCount: candidates, totalTokenCount: prompt + candidates };
}

const blockedFeedback = {
  blockReason: 'SAFETY',
  safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }],
};

function responseId(identity: ResponseIdentity): string {
  return identity.id.replace('chatcmpl-sim-', 'sim');
}

export function renderGeminiResponse(plan: ChatPlan, identity: ResponseIdentity): string {
  const common = { modelVersion: identity.model, responseId: responseId(identity) };
  if (plan.promptBlocked) return JSON.stringify({ promptFeedback: blockedFeedback, usageMetadata: usageMetadata(plan, undefined), ...common });
  const parts: unknown[] = [];
  if (plan.content !== null && plan.content !== '') parts.push({ text: plan.content });
  for (const call of plan.toolCalls) parts.push({ functionCall: { name: call.name, args: JSON.parse(call.arguments) as unknown } });
  const candidate = { content: { parts, role: 'model' }, finishReason: finishReason(plan), index: 0 };
  return JSON.stringify({ candidates: [candidate], usageMetadata: usageMetadata(plan, plan.usage.completion_tokens), ...common });
}

/** Google frames SSE events with CRLF line ends; clients must cope, so the simulator does too. */
function event(data: unknown): string {
  return `data: ${JSON.stringify(data)}\r\n\r\n`;
}

/** One event per word (or per function call), then a last event with the finish reason and the full usage. */
export function renderGeminiStream(plan: ChatPlan, identity: ResponseIdentity): RenderedStream {
  const stream = new StreamBuilder();
  const common = { modelVersion: identity.model, responseId: responseId(identity) };
  if (plan.promptBlocked) {
    stream.push(event({ promptFeedback: blockedFeedback, usageMetadata: usageMetadata(plan, undefined), ...common }));
    return stream.build();
  }
  const chunk = (parts: unknown[]) => event({ candidates: [{ content: { parts, role: 'model' }, index: 0 }], usageMetadata: usageMetadata(plan, undefined), ...common });
  plan.wordIndices.forEach((wordIndex, position) => stream.push(chunk([{ text: `${position === 0 ? '' : ' '}${vocabulary[wordIndex] ?? ''}` }]), true));
  if (plan.tailText !== '') stream.push(chunk([{ text: plan.tailText }]), true);
  for (const call of plan.toolCalls) stream.push(chunk([{ functionCall: { name: call.name, args: JSON.parse(call.arguments) as unknown } }]), true);
  const last = { content: { parts: [{ text: '' }], role: 'model' }, finishReason: finishReason(plan), index: 0 };
  stream.push(event({ candidates: [last], usageMetadata: usageMetadata(plan, plan.usage.completion_tokens), ...common }));
  return stream.build();
}

/** `:batchEmbedContents` → `{embeddings:[{values}]}`, with the simulator's feature-hashed vectors. */
export function renderGeminiEmbeddings(body: unknown): string {
  if (!isRecord(body) || !Array.isArray(body.requests) || body.requests.length === 0) throw invalid("Invalid value at 'requests': expected a non-empty list");
  const embeddings = body.requests.map((request: unknown, index: number) => {
    const content = isRecord(request) ? request.content : undefined;
    if (!isRecord(content) || !Array.isArray(content.parts)) throw invalid(`Invalid value at 'requests[${index}].content': expected parts`);
    const text = content.parts.map((value: unknown) => (isRecord(value) && typeof value.text === 'string' ? value.text : '')).join(' ');
    const dimensions = isRecord(request) && typeof request.outputDimensionality === 'number' ? request.outputDimensionality : defaultDimensions;
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 4096) throw invalid(`Invalid value at 'requests[${index}].output_dimensionality'`);
    return { values: Array.from(embedWords(wordsOf(text), dimensions)) };
  });
  return JSON.stringify({ embeddings });
}
