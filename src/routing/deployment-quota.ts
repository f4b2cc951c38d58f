// The contract the fallback executor asks before calling a deployment that has its own quota (rpm / tpm): take from
// it or skip the deployment; then reconcile the token reservation with what the attempt really used.
import type { ChatRequest, EmbeddingsRequest } from '../core/types.js';
import type { ChatOutcome, PipelineContext } from '../pipeline/context.js';
import type { EmbeddingsResult } from '../providers/types.js';
import type { Candidate } from './model-table.js';

/** What the attempt will send, for the token estimate (read only when the deployment has a tpm). */
export type QuotaDemand = { kind: 'chat'; request: ChatRequest } | { kind: 'embeddings'; request: EmbeddingsRequest };

/** An admitted attempt's share of the deployment's quota. Exactly one of its methods is called. */
export interface QuotaTicket {
  /** No upstream call was made after all: everything taken goes back. */
  cancel(): void;
  /** The call failed: the request still counts, the token reservation goes back. */
  failed(): void;
  /** The call served a chat answer: reconciles the tokens with its usage (a stream when it ends). */
  servedChat(outcome: ChatOutcome): Promise<ChatOutcome>;
  servedEmbeddings(result: EmbeddingsResult): void;
}

export type QuotaDecision = { allowed: true; ticket: QuotaTicket } | { allowed: false; retryAfterMs: number; reason: string };

export interface DeploymentQuota {
  /** Only called for candidates with an rpm or tpm. Throws (e.g. 503 fail-closed) when the limiter cannot decide. */
  take(candidate: Candidate, context: PipelineContext, demand: QuotaDemand): Promise<QuotaDecision>;
}
