// Who a request's spend belongs to besides its key: the end user (`user` field or x-breakwater-user header) and the
// session (x-breakwater-session header). Bounded, so a caller cannot blow up reports or counter keys.
import type { PipelineContext } from '../pipeline/context.js';

const maxLength = 128;

function headerValue(context: PipelineContext, name: string): string | undefined {
  const value = context.clientHeaders[name];
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === 'string' && text.length > 0 ? text.slice(0, maxLength) : undefined;
}

export function sessionOf(context: PipelineContext): string | undefined {
  return headerValue(context, 'x-breakwater-session');
}

/** Fills `principal.user` when the key is not bound to a user: the request's `user` field, else the x-breakwater-user header. */
export function identifyUser(context: PipelineContext, requestUser: unknown): void {
  if (context.principal.user) return;
  const user = typeof requestUser === 'string' && requestUser.length > 0 ? requestUser.slice(0, maxLength) : headerValue(context, 'x-breakwater-user');
  if (user) context.principal.user = user;
}
