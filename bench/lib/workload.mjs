// The request bodies the observability benchmarks send. The default is the worst case for a fixed per-request cost:
// one short prompt. `promptBytes > 0` builds a chat-shaped conversation instead: a system prompt and a multi-turn
// history of about that many bytes (deterministic words, so every run sends the same bytes).

/** A conversation of about `bytes` bytes of text, or one short user message when `bytes` is 0. */
export function conversation(bytes) {
  if (!(bytes > 0)) return [{ role: 'user', content: 'Hello there' }];
  const words = 'the order shipped late and the customer asks why their invoice shows two charges for one subscription please explain what happened check the account history summarise the refund policy in plain words keep the answer short and polite mention the next billing date'.split(' ');
  let seed = 7;
  const text = (length) => {
    let out = '';
    while (out.length < length) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      out += `${words[seed % words.length]}${seed % 11 === 0 ? '. ' : ' '}`;
    }
    return out.trim();
  };
  const messages = [{ role: 'system', content: text(bytes * 0.3) }];
  for (let turn = 0; turn < 6; turn++) messages.push({ role: turn % 2 === 0 ? 'user' : 'assistant', content: text((bytes * 0.7) / 7) });
  messages.push({ role: 'user', content: text((bytes * 0.7) / 7) });
  return messages;
}

/** The chat completion body for the simulator's `sim-fast` model. */
export const chatBody = ({ maxTokens = 16, stream = false, promptBytes = 0 } = {}) =>
  JSON.stringify({ model: 'sim-fast', max_tokens: maxTokens, stream, messages: conversation(promptBytes) });
