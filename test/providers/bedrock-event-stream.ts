// Test helper: Bedrock fixtures and application/vnd.amazon.eventstream encoding (with @smithy/eventstream-codec) of documented event shapes.
import { readFileSync } from 'node:fs';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

export interface FixtureEvent {
  type: string;
  payload: unknown;
}

export function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./__fixtures__/bedrock/${name}`, import.meta.url), 'utf8')) as T;
}

/** One event as Bedrock frames it: `:event-type`, `:content-type`, `:message-type` headers and a JSON body. */
export function encodeEvent(event: FixtureEvent): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: event.type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify(event.payload)),
  });
}

/** An exception message, as ConverseStream sends mid-stream (`:exception-type` throttlingException…). */
export function encodeException(exceptionType: string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': { type: 'string', value: exceptionType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    body: fromUtf8(JSON.stringify({ message })),
  });
}

export function encodeEvents(events: FixtureEvent[]): Buffer {
  return Buffer.concat(events.map(encodeEvent));
}

/** A recorded stream message: an event, or an exception (`{ "exception": "throttlingException", "message": … }`). */
export type FixtureMessage = FixtureEvent | { exception: string; message: string };

export function encodeEventStreamMessages(messages: FixtureMessage[]): Buffer {
  return Buffer.concat(messages.map((message) => ('exception' in message ? encodeException(message.exception, message.message) : encodeEvent(message))));
}

/** Cuts bytes into pieces of `size` so frames straddle chunk boundaries, as they do on the network. */
export async function* inPieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < bytes.length; start += size) yield bytes.subarray(start, start + size);
}
