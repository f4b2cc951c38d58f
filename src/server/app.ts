// The HTTP application: Fastify with auth, draining, request records, the routes and the single error handler.
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { catalogueFor } from '../catalogue/catalogue.js';
import type { Config } from '../config/schema.js';
import { GatewayError } from '../core/errors.js';
import { deferredChildLogger } from '../observability/logging.js';
import type { Metrics } from '../observability/metrics.js';
import { CallAbortedError } from '../providers/http-client.js';
import type { ChatOutcome, Handler } from '../pipeline/context.js';
import type { ChatRequest, EmbeddingsRequest } from '../core/types.js';
import type { EmbeddingsResult } from '../providers/types.js';
import type { ModelTable } from '../routing/model-table.js';
import type { Authenticator } from '../keys/authenticator.js';
import { MasterKeyCheck } from './auth.js';
import { errorHeaders, toGatewayError } from './error-handler.js';
import { errorBody } from './error-shape.js';
import type { Lifecycle } from './lifecycle.js';
import { findContext, probeRoutes, registerRequestContexts } from './request-context.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerAnthropicMessagesRoute } from './routes/anthropic-messages.js';
import { registerOpenAIRoutes } from './routes/openai.js';

export interface AppOptions {
  config: Config;
  models: ModelTable;
  chat: Handler<ChatRequest, ChatOutcome>;
  embeddings: Handler<EmbeddingsRequest, EmbeddingsResult>;
  lifecycle: Lifecycle;
  metrics: Metrics | undefined;
  logger: Logger;
  gatewayId: number;
  /** Virtual keys besides the master key (src/keys), when auth is on. */
  authenticator?: Authenticator | undefined;
}

const acceptedRequestId = /^[A-Za-z0-9._:@-]{1,128}$/;

export function buildApp(options: AppOptions): FastifyInstance {
  const { config, lifecycle } = options;
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // `request.log` becomes a pino child only when something logs through it (observability/logging.ts).
    childLoggerFactory: deferredChildLogger,
    // The gateway writes its own one line per request (observability/logging.ts).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.server.body_limit_bytes,
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && acceptedRequestId.test(given) ? given : randomUUID();
    },
    return503OnClosing: false,
    forceCloseConnections: false,
    keepAliveTimeout: config.server.keep_alive_timeout_ms,
    requestTimeout: config.server.request_timeout_ms,
    routerOptions: { ignoreTrailingSlash: true },
  });

  registerRequestContexts(app, options.gatewayId);

  // Bodies are JSON whatever the declared type (`curl -d` sends form-urlencoded): parse them as JSON, bounded by bodyLimit.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  const masterKey = config.auth.master_key ? new MasterKeyCheck(config.auth.master_key) : undefined;
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    const route = request.routeOptions.url ?? '';
    const isProbe = route === '/health' || route === '/ready' || (route === '/metrics' && !config.metrics.require_auth);
    if (lifecycle.refusingRequests && !probeRoutes.has(route)) {
      reply.header('connection', 'close');
      return done(new GatewayError('BW_ERR_SHUTTING_DOWN', 'the gateway is shutting down; retry on another instance'));
    }
    if (masterKey && !isProbe && options.authenticator) {
      options.authenticator.authenticate(request.headers.authorization, request.headers['x-api-key']).then((principal) => {
        if (!principal) return done(new GatewayError('BW_ERR_UNAUTHORIZED', 'Incorrect or missing API key: send `Authorization: Bearer <key>`', { publicCode: 'invalid_api_key' }));
        const context = findContext(request);
        if (context) context.principal = principal;
        done();
      }, done);
      return;
    }
    if (masterKey && !isProbe) {
      if (!masterKey.accepts(request.headers.authorization, request.headers['x-api-key'])) {
        return done(new GatewayError('BW_ERR_UNAUTHORIZED', 'Incorrect or missing API key: send `Authorization: Bearer <key>`', { publicCode: 'invalid_api_key' }));
      }
      const context = findContext(request);
      if (context) context.principal = { keyId: 'master' };
    }
    done();
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    const context = findContext(request);
    if (context) {
      reply.headers(context.responseHeaders);
      if (context.record.provider) reply.header('x-breakwater-provider', context.record.provider);
      if (context.record.model) reply.header('x-breakwater-model', context.record.model);
    }
    done(null, payload);
  });

  app.setErrorHandler((error, request, reply) => {
    const record = findContext(request)?.record;
    if (error instanceof CallAbortedError) {
      // The client is gone; nothing useful can be sent.
      reply.raw.destroy();
      return;
    }
    const failure = toGatewayError(error);
    if (record) record.errorCode = failure.code;
    if (failure.code === 'BW_ERR_INTERNAL') request.log.error({ err: error, request_id: request.id }, 'internal error');
    reply.code(failure.status).headers(errorHeaders(failure)).send(errorBody(request, failure));
  });

  const knownRoutes = new Map<string, string[]>();
  app.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((method) => method !== 'HEAD');
    knownRoutes.set(route.url, [...(knownRoutes.get(route.url) ?? []), ...methods]);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]?.replace(/\/+$/, '') ?? '';
    const allowed = knownRoutes.get(path);
    if (allowed && allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      throw new GatewayError('BW_ERR_METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; use ${allowed.join(' or ')}`);
    }
    throw new GatewayError('BW_ERR_NOT_FOUND', `Unknown route ${request.method} ${path}`, { publicCode: 'unknown_url' });
  });

  registerHealthRoutes(app, lifecycle, options.metrics);
  registerOpenAIRoutes(app, { models: options.models, chat: options.chat, embeddings: options.embeddings, maxMessages: config.server.max_messages, catalogue: catalogueFor(config) });
  registerAnthropicMessagesRoute(app, { chat: options.chat, maxMessages: config.server.max_messages });
  return app;
}
