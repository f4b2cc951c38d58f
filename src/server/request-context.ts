// Gives each API request its pipeline context (record, abort signal, principal, response headers) and
// publishes the request's start and end on the events channels.
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Cancellation } from '../core/cancellation.js';
import { newRequestRecord, requestEnd, requestStart } from '../observability/events.js';
import type { PipelineContext } from '../pipeline/context.js';

const contexts = new WeakMap<FastifyRequest, PipelineContext>();

/** Probe and scrape endpoints are not API traffic: they get no context, metric or log line. */
export const probeRoutes = new Set(['/health', '/ready', '/metrics']);

export function contextOf(request: FastifyRequest): PipelineContext {
  const context = contexts.get(request);
  if (!context) throw new Error('request context missing: registerRequestContexts() not installed');
  return context;
}

export function findContext(request: FastifyRequest): PipelineContext | undefined {
  return contexts.get(request);
}

export function registerRequestContexts(app: FastifyInstance, gatewayId: number): void {
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (probeRoutes.has(route)) return done();
    const record = newRequestRecord(gatewayId, request.id, route, request.method, request.headers.traceparent, request.headers.tracestate);
    const controller = new Cancellation();
    contexts.set(request, { record, signal: controller, clientHeaders: request.headers, principal: { keyId: 'anonymous' }, responseHeaders: {} });
    requestStart.publish(record);
    const response = reply.raw;
    response.once('close', () => {
      // The socket closed before the response was complete: the client is gone, so the upstream call is aborted at once.
      if (!response.writableFinished) controller.abort();
      record.durationMs = performance.now() - record.startedAt;
      record.status = response.headersSent ? response.statusCode : 499;
      record.clientClosed = !response.writableFinished;
      requestEnd.publish(record);
    });
    done();
  });
}
