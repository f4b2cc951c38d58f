// Decides what a simulated chat completion says: deterministic words or a tool call, the finish reason and usage.

import type { ChatRequest, Usage } from '../core/types.js';
import { messageText } from './chat-request.js';
import { createRandom, fnv1a32, toHex32 } from './deterministic-random.js';
import { vocabulary } from './vocabulary.js';
import { countWords } from './word-count.js';

const minimumWords = 8;
const maximumWords = 40;
// Every chat message costs a few tokens of framing (role markers), as with real tokenizers.
const tokensPerMessage = 4;
const toolTriggerPhrase = 'call a tool';

export interface SimToolCall {
  id: string;
  name: string;
  /** The complete JSON arguments text. */
  arguments: string;
  /** The same text split into 2–3 pieces, as streamed. */
  argumentPieces: string[];
}

/** Everything both the JSON and the SSE renderers need, so the two always agree. */
export interface ChatPlan {
  /** Vocabulary indices of the completion's words; empty for a tool call. */
  wordIndices: number[];
  content: string | null;
  toolCall: SimToolCall | null;
  finishReason: 'stop' | 'length' | 'tool_calls';
  usage: Usage;
  /** The request's hash, also used to make response ids. */
  seed: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function promptTokens(request: ChatRequest): number {
  let tokens = 0;
  for (const message of request.messages) tokens += countWords(messageText(message)) + tokensPerMessage;
  return tokens;
}

function pickWords(random: () => number, count: number): string {
  const words: string[] = [];
  for (let index = 0; index < count; index++) words.push(vocabulary[random() % vocabulary.length] ?? 'the');
  return words.join(' ');
}

function wantsToolCall(request: ChatRequest): boolean {
  if (!Array.isArray(request.tools) || request.tools.length === 0) return false;
  for (let index = request.messages.length - 1; index >= 0; index--) {
    const message = request.messages[index];
    if (message?.role === 'user') return messageText(message).toLowerCase().includes(toolTriggerPhrase);
  }
  return false;
}

/** Arguments that fit the tool's JSON schema where it is simple (strings, numbers, booleans, enums); else `{"query": ...}`. */
function toolArguments(functionSpec: Record<string, unknown>, random: () => number): string {
  const parameters = functionSpec.parameters;
  const properties = isRecord(parameters) && isRecord(parameters.properties) ? parameters.properties : {};
  const values: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(properties).slice(0, 4)) {
    if (!isRecord(schema)) continue;
    if (Array.isArray(schema.enum) && schema.enum.length > 0) values[name] = schema.enum[random() % schema.enum.length];
    else if (schema.type === 'integer' || schema.type === 'number') values[name] = random() % 100;
    else if (schema.type === 'boolean') values[name] = (random() & 1) === 1;
    else if (schema.type === 'string' || schema.type === undefined) values[name] = pickWords(random, 2 + (random() % 3));
  }
  if (Object.keys(values).length === 0) values.query = pickWords(random, 2 + (random() % 3));
  return JSON.stringify(values);
}

function splitArguments(text: string): string[] {
  if (text.length < 6) {
    const half = Math.floor(text.length / 2);
    return [text.slice(0, half), text.slice(half)];
  }
  const first = Math.floor(text.length / 3);
  const second = Math.floor((text.length * 2) / 3);
  return [text.slice(0, first), text.slice(first, second), text.slice(second)];
}

function planToolCall(request: ChatRequest, random: () => number): SimToolCall {
  const tool: unknown = request.tools?.[0];
  const functionSpec = isRecord(tool) && isRecord(tool.function) ? tool.function : {};
  const name = typeof functionSpec.name === 'string' && functionSpec.name !== '' ? functionSpec.name : 'tool';
  const id = `call_sim_${toHex32(random())}${toHex32(random())}`;
  const argumentsText = toolArguments(functionSpec, random);
  return { id, name, arguments: argumentsText, argumentPieces: splitArguments(argumentsText) };
}

export function planChatCompletion(request: ChatRequest): ChatPlan {
  const limit = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  // Only what changes the answer is hashed, so `stream` and other options cannot change the words.
  const seed = fnv1a32(`${request.model}\n${JSON.stringify(request.messages)}\n${limit ?? ''}`);
  const random = createRandom(seed);
  const prompt = promptTokens(request);

  if (wantsToolCall(request)) {
    const toolCall = planToolCall(request, random);
    const completion = Math.max(1, Math.ceil(toolCall.arguments.length / 4));
    return {
      wordIndices: [],
      content: null,
      toolCall,
      finishReason: 'tool_calls',
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      seed,
    };
  }

  const naturalLength = minimumWords + (random() % (maximumWords - minimumWords + 1));
  const length = limit !== undefined && limit < naturalLength ? limit : naturalLength;
  const wordIndices: number[] = [];
  for (let index = 0; index < length; index++) wordIndices.push(random() % vocabulary.length);
  return {
    wordIndices,
    content: wordIndices.map((wordIndex) => vocabulary[wordIndex]).join(' '),
    toolCall: null,
    finishReason: length < naturalLength ? 'length' : 'stop',
    usage: { prompt_tokens: prompt, completion_tokens: length, total_tokens: prompt + length },
    seed,
  };
}
