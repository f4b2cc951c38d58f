// Watches a stream after failover is no longer possible (its first chunk was delivered): counts what was
// delivered so a cut stream is billed for the tokens the client got, marks the deployment's breaker on a
// mid-stream failure, turns a passed deadline into a timeout error, and releases everything at the end.
import { GatewayError, isGatewayError } from '../core/errors.js';
import type { ChatRequest, StreamChunk } from '../core/types.js';
import type { PipelineContext } from '../pipeline/context.js';
import { CallAbortedError } from '../providers/http-client.js';
import type { Deadline } from './deadline.js';
import type { DeploymentHealth } from './deployments.js';
import { estimatePromptTokens } from './prompt-estimate.js';

export interface StreamGuardOptions {
  request: ChatRequest;
  context: PipelineContext;
  deadline: Deadline;
  health: DeploymentHealth;
}

export async function* guardStream(first: IteratorResult<StreamChunk>, iterator: AsyncIterator<StreamChunk>, options: StreamGuardOptions): AsyncGenerator<StreamChunk> {
  const { context, deadline, health } = options;
  // One streamed delta is one token, as OpenAI-format upstreams send them (an estimate for providers that batch).
  let deliveredDeltas = 0;
  let sawUsage = false;
  let completed = false;
  let item = first;
  try {
    while (!item.done) {
      const chunk = item.value.chunk;
      if (chunk.usage) sawUsage = true;
      for (const choice of chunk.choices) {
        if (choice.finish_reason && choice.index === 0) context.record.finishReason = choice.finish_reason;
        const delta = choice.delta;
        if (delta.content || delta.refusal || (delta.tool_calls && delta.tool_calls.length > 0)) deliveredDeltas++;
      }
      yield item.value;
      item = await iterator.next();
    }
    completed = true;
  } catch (error) {
    if (error instanceof CallAbortedError && !deadline.clientGone) throw deadline.error();
    if (isGatewayError(error) && error.retryable) health.breaker.failure({ probe: false });
    throw error instanceof GatewayError || error instanceof CallAbortedError ? error : new GatewayError('BW_ERR_INTERNAL', 'stream failed', { cause: error });
  } finally {
    deadline.clear();
    if (!completed) await iterator.return?.().catch(() => undefined);
    if (!sawUsage) {
      // The upstream never reported usage (the stream was cut or abandoned): bill what was delivered.
      context.record.completionTokens = deliveredDeltas;
      context.record.promptTokens = await estimatePromptTokens(options.request);
      context.record.usageEstimated = true;
    }
  }
}
