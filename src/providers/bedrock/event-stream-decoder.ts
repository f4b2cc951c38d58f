// Splits an `application/vnd.amazon.eventstream` byte stream into messages and decodes them (CRCs checked) with @smithy/eventstream-codec.
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

/** One decoded event-stream message: its `:message-type`, `:event-type` / `:exception-type` and JSON payload text. */
export interface EventStreamMessage {
  messageType: string;
  /** `:event-type` for events, `:exception-type` for exceptions, `:error-code` for errors. */
  type: string;
  payload: string;
}

export class EventStreamFramingError extends Error {
  /** The bytes stopped mid-message: a cut connection rather than a malformed message. */
  readonly truncated: boolean;

  constructor(message: string, truncated = false) {
    super(message);
    this.name = 'EventStreamFramingError';
    this.truncated = truncated;
  }
}

// Prelude: total length (4 bytes), headers length (4), prelude CRC (4); the message ends with a 4-byte CRC.
const preludeBytes = 12;
const minimumMessageBytes = 16;

const codec = new EventStreamCodec(toUtf8, fromUtf8);

export async function* decodeEventStream(body: AsyncIterable<Uint8Array>, maxMessageBytes: number): AsyncGenerator<EventStreamMessage> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const part of body) {
    pending = pending.length === 0 ? Buffer.from(part) : Buffer.concat([pending, part]);
    while (pending.length >= preludeBytes) {
      const total = pending.readUInt32BE(0);
      if (total < minimumMessageBytes || total > maxMessageBytes) throw new EventStreamFramingError(`event-stream message length ${total} is out of bounds`);
      if (pending.length < total) break;
      yield toMessage(pending.subarray(0, total));
      pending = pending.subarray(total);
    }
  }
  if (pending.length > 0) throw new EventStreamFramingError('the event stream ended in the middle of a message', true);
}

function toMessage(bytes: Uint8Array): EventStreamMessage {
  let decoded;
  try {
    decoded = codec.decode(bytes);
  } catch (error) {
    throw new EventStreamFramingError(`undecodable event-stream message (${(error as Error).message})`);
  }
  const header = (name: string): string | undefined => {
    const value = decoded.headers[name];
    return value?.type === 'string' ? value.value : undefined;
  };
  const messageType = header(':message-type') ?? 'event';
  const type = (messageType === 'exception' ? header(':exception-type') : messageType === 'error' ? header(':error-code') : header(':event-type')) ?? '';
  const payload = messageType === 'error' ? JSON.stringify({ message: header(':error-message') ?? '' }) : toUtf8(decoded.body);
  return { messageType, type, payload };
}
