// Observes what a served request really consumed (usage, or what was streamed before a cut) and reports it exactly once:
// at once for a JSON answer, when a stream ends — normally, by an error, or because the client went away — or on failure.
import type { StreamChunk, Usage } from '../core/types.js';
import type { ChatOutcome, PipelineContext } from '../pipeline/context.js';
import type { CancelSignal } from '../core/cancellation.js';

export interface Consumption {
  /** The upstream's usage report, when it sent one. */
  usage: Usage | undefined;
  /** Characters of completion text streamed (an estimate of output when a cut stream sent no usage). */
  streamedCharacters: number;
  /** The call failed (threw, or the stream broke off). */
  failed: boolean;
}

/** Runs `work`, then reports its consumption through `settle`; the outcome is returned unchanged (a stream wrapped). */
export async function withConsumption(context: PipelineContext, work: () => Promise<ChatOutcome>, settle: (consumption: Consumption) => void): Promise<ChatOutcome> {
  let settled = false;
  const once = (consumption: Consumption) => {
    if (settled) return;
    settled = true;
    settle(consumption);
  };
  let outcome: ChatOutcome;
  try {
    outcome = await work();
  } catch (error) {
    once({ usage: undefined, streamedCharacters: 0, failed: true });
    throw error;
  }
  if (outcome.kind === 'json') {
    once({ usage: outcome.result.completion.usage, streamedCharacters: 0, failed: false });
    return outcome;
  }
  return { kind: 'stream', stream: observeStream(outcome.stream, context.signal, once) };
}

async function* observeStream(stream: AsyncIterable<StreamChunk>, signal: CancelSignal, settle: (consumption: Consumption) => void): AsyncGenerator<StreamChunk> {
  let usage: Usage | undefined;
  let streamedCharacters = 0;
  let failed = true;
  // A client that leaves before the stream is even read would otherwise keep its reservations until they expire.
  const onAbort = () => settle({ usage, streamedCharacters, failed: true });
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const item of stream) {
      const chunk = item.chunk;
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        const content = choice.delta.content;
        if (typeof content === 'string') streamedCharacters += content.length;
      }
      yield item;
    }
    failed = false;
  } finally {
    signal.removeEventListener('abort', onAbort);
    settle({ usage, streamedCharacters, failed });
  }
}

/** Tokens really used: the usage report, else the prompt estimate (if the upstream got that far) plus streamed text at ~4 characters per token. */
export function consumedTokens(consumption: Consumption, estimate: { readonly promptTokens: number }): { prompt: number; completion: number; cached: number } {
  if (consumption.usage) {
    return {
      prompt: consumption.usage.prompt_tokens,
      completion: consumption.usage.completion_tokens,
      cached: consumption.usage.prompt_tokens_details?.cached_tokens ?? 0,
    };
  }
  // The estimate is read only here, so the tokenizer runs only for requests that never reported usage.
  if (consumption.streamedCharacters > 0) return { prompt: estimate.promptTokens, completion: Math.ceil(consumption.streamedCharacters / 4), cached: 0 };
  return { prompt: 0, completion: 0, cached: 0 };
}
