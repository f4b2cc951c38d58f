// The sampling decision, made once per API request at its start: everything after it is skipped for a request
// that is not sampled. Ratios use the SDK's TraceIdRatioBasedSampler, so a trace id gets the same answer here as
// in any other OpenTelemetry JS service.
import { ROOT_CONTEXT, TraceFlags } from '@opentelemetry/api';
import { SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { SamplerSettings } from './tracing-settings.js';

export type SampleDecider = (traceId: string, callerFlags: number | undefined) => boolean;

export function sampleDecider(settings: SamplerSettings): SampleDecider {
  const { parentBased, ratio } = settings;
  const byRatio = new TraceIdRatioBasedSampler(ratio);
  const root: (traceId: string) => boolean =
    ratio >= 1 ? () => true : ratio <= 0 ? () => false : (traceId) => byRatio.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
  if (!parentBased) return (traceId) => root(traceId);
  return (traceId, callerFlags) => (callerFlags === undefined ? root(traceId) : (callerFlags & TraceFlags.SAMPLED) !== 0);
}
