// The simulator's fault grammar: parses `status=429;retry-after=2;times=3` into a FaultSpec and checks it.

/** Which endpoint a fault is limited to (`endpoint=` key). */
export type FaultEndpoint = 'chat' | 'embeddings' | 'models';

/**
 * One scripted fault. At most one action (status, hang, cutAfter, stallAfter, malformed,
 * contentType, connection) per spec; `trickleMs` may pace any response; `times`, `model` and
 * `endpoint` limit which requests it hits. A spec with no action and no trickle is a no-op.
 */
export interface FaultSpec {
  /** Respond with this HTTP error status (400–599) and an OpenAI error envelope. */
  status?: number;
  /** The envelope's `code` (only with `status`), e.g. `context_length_exceeded`. */
  code?: string;
  /** Sent verbatim as the Retry-After header (only with `status`): seconds, an HTTP-date, or garbage. */
  retryAfter?: string;
  /** Apply to the first N requests carrying this spec only; later ones succeed. Default: every request. */
  times?: number;
  /** Never respond (`before-headers`) or send 200 headers and then nothing (`after-headers`). */
  hang?: 'before-headers' | 'after-headers';
  /** Stream: send this many chunks (the role chunk is the first) then destroy the socket. Non-stream: half the body, then destroy. */
  cutAfter?: number;
  /** Stream: send this many chunks then go silent with the socket open. Non-stream: half the body, then silence. */
  stallAfter?: number;
  /** Non-stream: a 200 whose body is not JSON. Stream: the second chunk's data is not JSON. */
  malformed?: boolean;
  /** A 200 with this content type and an HTML body, as a misconfigured proxy would send. */
  contentType?: string;
  /** Wait this many milliseconds between every chunk (overrides per-token latency). */
  trickleMs?: number;
  /** `reset`: destroy the socket (TCP RST) as soon as the request has arrived. */
  connection?: 'reset';
  /**
   * A content-policy block, in the wire format's own terms: `output` stops the text halfway with the content
   * filter (OpenAI `content_filter`, Anthropic `refusal`, Gemini `SAFETY`); `prompt` refuses the prompt itself
   * (OpenAI: 400 `content_filter`; Anthropic: an empty `refusal`; Gemini: `promptFeedback.blockReason`).
   */
  block?: 'output' | 'prompt';
  /** Only requests for this model are faulted. */
  model?: string;
  /** Only requests to this endpoint are faulted. */
  endpoint?: FaultEndpoint;
}

const actionKeys = ['status', 'hang', 'cutAfter', 'stallAfter', 'malformed', 'contentType', 'connection', 'block'] as const;

/** Grammar key → FaultSpec field, for messages that name the key the user actually wrote. */
const grammarNames: Record<string, string> = {
  status: 'status', code: 'code', retryAfter: 'retry-after', times: 'times', hang: 'hang', cutAfter: 'cut-after',
  stallAfter: 'stall-after', malformed: 'malformed', contentType: 'content-type', trickleMs: 'trickle',
  connection: 'connection', model: 'model', endpoint: 'endpoint', block: 'block',
};

const knownKeys = 'status, code, retry-after, times, hang, cut-after, stall-after, malformed, content-type, trickle, connection, block, model, endpoint, none';

// Header values may hold visible ASCII, spaces and tabs only; anything else would make Node throw mid-response.
const headerValuePattern = /^[\t\x20-\x7e]+$/;

function parseCount(key: string, value: string, minimum: number): number {
  if (!/^\d+$/.test(value)) throw new Error(`fault key "${key}" needs a whole number, got "${value}"`);
  const number = Number(value);
  if (number < minimum || !Number.isSafeInteger(number)) throw new Error(`fault key "${key}" must be at least ${minimum}, got "${value}"`);
  return number;
}

function requireValue(key: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new Error(`fault key "${key}" needs a value (${key}=...)`);
  return value;
}

function applyItem(spec: FaultSpec, key: string, value: string | undefined): void {
  switch (key) {
    case 'status':
      spec.status = parseCount(key, requireValue(key, value), 0);
      return;
    case 'code':
      spec.code = requireValue(key, value);
      return;
    case 'retry-after':
      spec.retryAfter = requireValue(key, value);
      return;
    case 'times':
      spec.times = parseCount(key, requireValue(key, value), 1);
      return;
    case 'hang': {
      const phase = requireValue(key, value);
      if (phase !== 'before-headers' && phase !== 'after-headers') {
        throw new Error(`fault key "hang" must be "before-headers" or "after-headers", got "${phase}"`);
      }
      spec.hang = phase;
      return;
    }
    case 'cut-after':
      spec.cutAfter = parseCount(key, requireValue(key, value), 0);
      return;
    case 'stall-after':
      spec.stallAfter = parseCount(key, requireValue(key, value), 0);
      return;
    case 'malformed':
      if (value !== undefined) throw new Error('fault flag "malformed" takes no value');
      spec.malformed = true;
      return;
    case 'content-type':
      spec.contentType = requireValue(key, value);
      return;
    case 'trickle':
      spec.trickleMs = parseCount(key, requireValue(key, value), 0);
      return;
    case 'connection': {
      const mode = requireValue(key, value);
      if (mode !== 'reset') throw new Error(`fault key "connection" only supports "reset", got "${mode}"`);
      spec.connection = 'reset';
      return;
    }
    case 'block': {
      const what = requireValue(key, value);
      if (what !== 'output' && what !== 'prompt') throw new Error(`fault key "block" must be "output" or "prompt", got "${what}"`);
      spec.block = what;
      return;
    }
    case 'model':
      spec.model = requireValue(key, value);
      return;
    case 'endpoint': {
      const endpoint = requireValue(key, value);
      if (endpoint !== 'chat' && endpoint !== 'embeddings' && endpoint !== 'models') {
        throw new Error(`fault key "endpoint" must be "chat", "embeddings" or "models", got "${endpoint}"`);
      }
      spec.endpoint = endpoint;
      return;
    }
    case 'none':
      if (value !== undefined) throw new Error('fault flag "none" takes no value');
      return;
    default:
      throw new Error(`unknown fault key "${key}" (known: ${knownKeys})`);
  }
}

/** Parses the header/CLI grammar: `;`-separated `key=value` items or bare flags. Throws a precise Error on bad input. */
export function parseFaultSpec(text: string): FaultSpec {
  const spec: FaultSpec = {};
  const seen = new Set<string>();
  for (const rawItem of text.split(';')) {
    const item = rawItem.trim();
    if (item === '') continue;
    const equals = item.indexOf('=');
    const key = (equals === -1 ? item : item.slice(0, equals)).trim().toLowerCase();
    // Only the first `=` splits, so values such as HTTP-dates or codes keep everything after it.
    const value = equals === -1 ? undefined : item.slice(equals + 1).trim();
    if (seen.has(key)) throw new Error(`fault key "${key}" appears twice in "${text}"`);
    seen.add(key);
    applyItem(spec, key, value);
  }
  if (seen.size === 0) throw new Error('fault spec is empty (use "none" for no fault)');
  return validateFaultSpec(spec);
}

/** Checks a spec built in code or parsed from text; returns it unchanged or throws naming the problem. */
export function validateFaultSpec(spec: FaultSpec): FaultSpec {
  const actions = actionKeys.filter((key) => spec[key] !== undefined && spec[key] !== false);
  if (actions.length > 1) {
    throw new Error(`fault spec combines ${actions.map((key) => `"${grammarNames[key]}"`).join(' and ')}; use one of them per spec`);
  }
  if (spec.status !== undefined && (!Number.isInteger(spec.status) || spec.status < 400 || spec.status > 599)) {
    throw new Error(`fault key "status" must be an HTTP error status from 400 to 599, got "${spec.status}"`);
  }
  if (spec.status === undefined && spec.code !== undefined) throw new Error('fault key "code" needs "status" in the same spec');
  if (spec.status === undefined && spec.retryAfter !== undefined) throw new Error('fault key "retry-after" needs "status" in the same spec');
  if (spec.retryAfter !== undefined && !headerValuePattern.test(spec.retryAfter)) {
    throw new Error('fault key "retry-after" holds characters not allowed in an HTTP header');
  }
  if (spec.contentType !== undefined && !headerValuePattern.test(spec.contentType)) {
    throw new Error('fault key "content-type" holds characters not allowed in an HTTP header');
  }
  for (const key of ['times', 'cutAfter', 'stallAfter', 'trickleMs'] as const) {
    const value = spec[key];
    const minimum = key === 'times' ? 1 : 0;
    if (value !== undefined && (!Number.isSafeInteger(value) || value < minimum)) {
      throw new Error(`fault key "${grammarNames[key]}" must be a whole number of at least ${minimum}, got "${value}"`);
    }
  }
  return spec;
}

/** True when the spec changes the response at all (a bare `none` or a spec of only filters does not). */
export function faultHasEffect(spec: FaultSpec): boolean {
  return actionKeys.some((key) => spec[key] !== undefined && spec[key] !== false) || spec.trickleMs !== undefined;
}
