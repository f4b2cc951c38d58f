// Reads and parses a JSON request body, with a size limit so a runaway client cannot exhaust memory.

import type { IncomingMessage } from 'node:http';
import { SimRequestError } from './error-envelope.js';

const maximumBodyBytes = 16 * 1024 * 1024;

export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is drained and dropped, so the 413 can still be sent on this connection.
      if (size > maximumBodyBytes) {
        reject(new SimRequestError(413, `Request body exceeds ${maximumBodyBytes} bytes.`, { code: 'body_too_large' }));
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
    // A client that disconnects mid-body must not leave this promise pending forever.
    request.on('close', () => {
      if (!request.complete) reject(new Error('client disconnected before sending the whole body'));
    });
  });
}

export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new SimRequestError(400, `We could not parse the JSON body of your request. (${detail})`, { code: 'invalid_json' });
  }
}
