// Azure OpenAI streams are OpenAI's plus content-filter annotations; this drops the annotation-only chunks so clients see OpenAI's stream shape.
import type { StreamChunk } from '../../core/types.js';

/**
 * Azure sends a prompt-filter chunk first (no choices, no usage, id ""), and with the asynchronous filter
 * annotation chunks whose choices carry `content_filter_results` / `content_filter_offsets` but no `delta`,
 * even after the finish chunk. Clients written for OpenAI read `choices[0].delta` and the role from the first
 * chunk, so those chunks are dropped; every other chunk is relayed unchanged (with its raw bytes).
 */
export async function* withoutFilterAnnotations(stream: AsyncIterable<StreamChunk>): AsyncGenerator<StreamChunk> {
  for await (const item of stream) {
    const choices = Array.isArray(item.chunk.choices) ? item.chunk.choices : [];
    if (choices.length === 0) {
      if (item.chunk.usage) yield item;
      continue;
    }
    const withDelta = choices.filter((choice) => typeof choice.delta === 'object' && choice.delta !== null);
    if (withDelta.length === choices.length) yield item;
    else if (withDelta.length > 0) yield { chunk: { ...item.chunk, choices: withDelta } };
  }
}
