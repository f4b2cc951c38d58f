// Liveness (/health), readiness (/ready) and the Prometheus scrape endpoint (/metrics).
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';
import type { Lifecycle } from '../lifecycle.js';

export function registerHealthRoutes(app: FastifyInstance, lifecycle: Lifecycle, metrics: Metrics | undefined): void {
  const alive = JSON.stringify({ status: 'ok' });
  // Liveness checks nothing but that the process answers: a dependency outage must not get pods restarted.
  app.get('/health', (_request, reply) => {
    reply.header('content-type', 'application/json').send(alive);
  });

  app.get('/ready', (_request, reply) => {
    const report = lifecycle.readiness();
    reply.code(report.ready ? 200 : 503).send({ status: report.ready ? 'ready' : 'not ready', ...report });
  });

  if (metrics) {
    app.get('/metrics', async (_request, reply) => {
      reply.header('content-type', metrics.contentType);
      return metrics.render();
    });
  }
}
