// Publishes an upstream failure on the events channel (metrics and logs count it there).
import { isGatewayError } from '../core/errors.js';
import { upstreamError, type RequestRecord, type UpstreamErrorEvent } from '../observability/events.js';

export function reportUpstreamError(record: RequestRecord, error: unknown): void {
  if (!isGatewayError(error) || error.upstreamKind === undefined || !upstreamError.hasSubscribers) return;
  const event: UpstreamErrorEvent = {
    gatewayId: record.gatewayId,
    requestId: record.requestId,
    provider: error.provider ?? record.provider ?? 'unknown',
    kind: error.upstreamKind,
    ...(error.upstreamStatus === undefined ? {} : { status: error.upstreamStatus }),
  };
  upstreamError.publish(event);
}
