// OpenAI-style error bodies and the error the simulator throws when a request is invalid.

import { STATUS_CODES } from 'node:http';

/** An invalid request: becomes a 4xx OpenAI error envelope naming the offending parameter. */
export class SimRequestError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;

  constructor(status: number, message: string, options: { param?: string | null; code?: string | null; type?: string } = {}) {
    super(message);
    this.name = 'SimRequestError';
    this.status = status;
    this.type = options.type ?? errorTypeForStatus(status);
    this.param = options.param ?? null;
    this.code = options.code ?? null;
  }
}

/** The OpenAI `type` for a status: what clients branch on when deciding to retry. */
export function errorTypeForStatus(status: number): string {
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function errorEnvelope(message: string, type: string, param: string | null, code: string | null): string {
  return JSON.stringify({ error: { message, type, param, code } });
}

export function envelopeForRequestError(error: SimRequestError): string {
  return errorEnvelope(error.message, error.type, error.param, error.code);
}

/** The message a scripted `status=` fault carries, e.g. "Simulated fault: 503 Service Unavailable". */
export function faultMessageForStatus(status: number): string {
  return `Simulated fault: ${status} ${STATUS_CODES[status] ?? 'Error'}`;
}
