// Which error body a route answers with: the OpenAI envelope (the default) or, on routes that say so, Anthropic's shape.
import type { FastifyRequest } from 'fastify';
import type { GatewayError } from '../core/errors.js';
import { anthropicErrorBody } from '../frontends/anthropic/errors.js';

export type ErrorShape = 'openai' | 'anthropic';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set per route (`{ config: { errorShape: 'anthropic' } }`); read by the one error handler. */
    errorShape?: ErrorShape;
  }
}

export function errorShapeOf(request: FastifyRequest): ErrorShape {
  return request.routeOptions.config.errorShape ?? 'openai';
}

/** The error body for a request, in the shape its route speaks. */
export function errorBody(request: FastifyRequest, error: GatewayError): unknown {
  return errorShapeOf(request) === 'anthropic' ? anthropicErrorBody(error) : error.toEnvelope();
}
