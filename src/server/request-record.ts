// Attaches a RequestRecord to each API request and publishes its start and end on the events channels.
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requestEnd, requestStart, type RequestRecord } from '../observability/events.js';

const records = new WeakMap<FastifyRequest, RequestRecord>();

/** Probe and scrape endpoints are not API traffic: they get no record, metric or log line. */
export const probeRoutes = new Set(['/health', '/ready', '/metrics']);

export function recordOf(request: FastifyRequest): RequestRecord {
  const record = records.get(request);
  if (!record) throw new Error('request record missing: registerRequestRecords() not installed');
  return record;
}

export function findRecord(request: FastifyRequest): RequestRecord | undefined {
  return records.get(request);
}

export function registerRequestRecords(app: FastifyInstance, gatewayId: number): void {
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (probeRoutes.has(route)) return done();
    const record: RequestRecord = {
      gatewayId,
      requestId: request.id,
      route,
      method: request.method,
      startedAt: performance.now(),
      stream: false,
      status: 0,
      clientClosed: false,
    };
    records.set(request, record);
    requestStart.publish(record);
    const response = reply.raw;
    response.once('close', () => {
      record.durationMs = performance.now() - record.startedAt;
      record.status = response.headersSent ? response.statusCode : 499;
      record.clientClosed = !response.writableFinished;
      requestEnd.publish(record);
    });
    done();
  });
}
