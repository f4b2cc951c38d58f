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
// Asking for this gets one call per offered tool (up to four), as a model making parallel tool calls would.
const parallelToolTriggerPhrase = 'call every tool';
const maximumParallelToolCalls = 4;
// Each image part costs a fixed number of prompt tokens (as OpenAI's low-detail images do), so usage shows it arrived.
export const imageTokens = 85;

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
  /** Vocabulary indices of the completion's words (one streamed chunk each); empty for tool calls. */
  wordIndices: number[];
  /** Text after the last whole word when a stop sequence cut a word short (one more chunk), else ''. */
  tailText: string;
  content: string | null;
  /** Tool calls in order (one for "call a tool", one per tool for "call every tool"); empty for text. */
  toolCalls: SimToolCall[];
  finishReason: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  /** The stop sequence that ended the text, when one did (Anthropic reports it). */
  stopSequence: string | null;
  /** Set by the `block=prompt` fault: the prompt itself was refused, nothing was generated. */
  promptBlocked: boolean;
  usage: Usage;
  /** The request's hash, also used to make response ids. */
  seed: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function promptTokens(request: ChatRequest): number {
  let tokens = 0;
  for (const message of request.messages) tokens += countWords(messageText(message)) + tokensPerMessage + imageTokens * imageCount(message.content);
  return tokens;
}

function imageCount(content: unknown): number {
  if (!Array.isArray(content)) return 0;
  let count = 0;
  for (const part of content as unknown[]) if (isRecord(part) && part.type === 'image_url') count++;
  return count;
}

function pickWords(random: () => number, count: number): string {
  const words: string[] = [];
  for (let index = 0; index < count; index++) words.push(vocabulary[random() % vocabulary.length] ?? 'the');
  return words.join(' ');
}

/** How many tool calls the last user message asks for: 0, 1 ("call a tool") or one per tool ("call every tool"). */
function wantedToolCalls(request: ChatRequest): number {
  if (!Array.isArray(request.tools) || request.tools.length === 0) return 0;
  for (let index = request.messages.length - 1; index >= 0; index--) {
    const message = request.messages[index];
    // Tool results after the last user turn: the model has what it asked for and answers in text.
    if (message?.role === 'tool') return 0;
    if (message?.role !== 'user') continue;
    const text = messageText(message).toLowerCase();
    if (text.includes(parallelToolTriggerPhrase)) return Math.min(request.tools.length, maximumParallelToolCalls);
    return text.includes(toolTriggerPhrase) ? 1 : 0;
  }
  return 0;
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

function planToolCall(request: ChatRequest, toolIndex: number, random: () => number): SimToolCall {
  const tool: unknown = request.tools?.[toolIndex];
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

  const toolCallCount = wantedToolCalls(request);
  if (toolCallCount > 0) {
    const toolCalls: SimToolCall[] = [];
    for (let index = 0; index < toolCallCount; index++) toolCalls.push(planToolCall(request, index, random));
    let completion = 0;
    for (const toolCall of toolCalls) completion += Math.max(1, Math.ceil(toolCall.arguments.length / 4));
    return {
      wordIndices: [],
      tailText: '',
      content: null,
      toolCalls,
      finishReason: 'tool_calls',
      stopSequence: null,
      promptBlocked: false,
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      seed,
    };
  }

  const naturalLength = minimumWords + (random() % (maximumWords - minimumWords + 1));
  const length = limit !== undefined && limit < naturalLength ? limit : naturalLength;
  const wordIndices: number[] = [];
  for (let index = 0; index < length; index++) wordIndices.push(random() % vocabulary.length);
  const plan: ChatPlan = {
    wordIndices,
    tailText: '',
    content: wordIndices.map((wordIndex) => vocabulary[wordIndex]).join(' '),
    toolCalls: [],
    finishReason: length < naturalLength ? 'length' : 'stop',
    stopSequence: null,
    promptBlocked: false,
    usage: { prompt_tokens: prompt, completion_tokens: length, total_tokens: prompt + length },
    seed,
  };
  applyStopSequences(plan, stopSequences(request.stop));
  return plan;
}

function stopSequences(stop: unknown): string[] {
  if (typeof stop === 'string') return stop === '' ? [] : [stop];
  if (!Array.isArray(stop)) return [];
  return stop.filter((item): item is string => typeof item === 'string' && item !== '');
}

/** Ends the text before the earliest stop sequence, as real models do (the sequence itself is not returned). */
function applyStopSequences(plan: ChatPlan, sequences: readonly string[]): void {
  const content = plan.content ?? '';
  let cut = -1;
  let matched: string | null = null;
  for (const sequence of sequences) {
    const at = content.indexOf(sequence);
    if (at !== -1 && (cut === -1 || at < cut)) {
      cut = at;
      matched = sequence;
    }
  }
  if (cut === -1) return;
  // Whole words stay one chunk each; a word the cut falls inside becomes a shorter last chunk.
  let wholeWords = 0;
  let length = 0;
  for (const wordIndex of plan.wordIndices) {
    const next = length + (wholeWords === 0 ? 0 : 1) + (vocabulary[wordIndex] ?? '').length;
    if (next > cut) break;
    length = next;
    wholeWords++;
  }
  plan.wordIndices = plan.wordIndices.slice(0, wholeWords);
  plan.content = content.slice(0, cut);
  plan.tailText = plan.content.slice(length);
  plan.finishReason = 'stop';
  plan.stopSequence = matched;
  const completion = wholeWords + (plan.tailText === '' ? 0 : 1);
  plan.usage = { prompt_tokens: plan.usage.prompt_tokens, completion_tokens: completion, total_tokens: plan.usage.prompt_tokens + completion };
}

/**
 * The `block=` fault: `output` stops the text halfway with the content filter; `prompt` refuses before
 * generating anything. Each wire format renders that in its provider's own way.
 */
export function blockPlan(plan: ChatPlan, block: 'output' | 'prompt'): ChatPlan {
  const kept = block === 'prompt' ? 0 : Math.floor(plan.wordIndices.length / 2);
  const wordIndices = plan.wordIndices.slice(0, kept);
  const completion = wordIndices.length;
  return {
    ...plan,
    wordIndices,
    tailText: '',
    content: block === 'prompt' ? null : wordIndices.map((wordIndex) => vocabulary[wordIndex]).join(' '),
    toolCalls: [],
    finishReason: 'content_filter',
    stopSequence: null,
    promptBlocked: block === 'prompt',
    usage: { prompt_tokens: plan.usage.prompt_tokens, completion_tokens: completion, total_tokens: plan.usage.prompt_tokens + completion },
  };
}
