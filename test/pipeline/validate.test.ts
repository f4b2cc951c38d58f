import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../src/core/errors.js';
import { validateChatRequest, validateEmbeddingsRequest } from '../../src/pipeline/validate.js';

const limits = { maxMessages: 3 };

function rejects(body: unknown, param: string): void {
  assert.throws(
    () => validateChatRequest(body, limits),
    (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === param,
    `expected a 400 naming ${param}`,
  );
}

test('chat requests: each problem names its field', () => {
  rejects([], 'body');
  rejects({ messages: [{ role: 'user', content: 'hi' }] }, 'model');
  rejects({ model: 'm' }, 'messages');
  rejects({ model: 'm', messages: [] }, 'messages');
  rejects({ model: 'm', messages: [{ role: 'user', content: 'a' }, { role: 'wizard', content: 'b' }] }, 'messages[1].role');
  rejects({ model: 'm', messages: [{ role: 'user' }] }, 'messages[0].content');
  rejects({ model: 'm', messages: [{ role: 'user', content: [{ text: 'x' }] }] }, 'messages[0].content[0].type');
  rejects({ model: 'm', messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id');
  rejects({ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 3 }, 'temperature');
  rejects({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 0 }, 'max_tokens');
  rejects({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: 'yes' }, 'stream');
  rejects({ model: 'm', messages: [{ role: 'user', content: 'x' }], stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop');
  rejects({ model: 'm', messages: Array.from({ length: 4 }, () => ({ role: 'user', content: 'x' })) }, 'messages');
});

test('chat requests: valid bodies pass with unknown fields kept', () => {
  const body = { model: 'm', messages: [{ role: 'assistant', content: null, tool_calls: [] }, { role: 'user', content: 'x' }], logit_bias: { 1: 2 }, vendor_field: true };
  assert.equal(validateChatRequest(body, limits), body);
});

test('embeddings requests', () => {
  assert.throws(() => validateEmbeddingsRequest({ model: 'e' }), (error: unknown) => error instanceof GatewayError && error.param === 'input');
  assert.throws(() => validateEmbeddingsRequest({ model: 'e', input: [] }), (error: unknown) => error instanceof GatewayError && error.param === 'input');
  assert.throws(() => validateEmbeddingsRequest({ model: 'e', input: 'x', encoding_format: 'hex' }), (error: unknown) => error instanceof GatewayError && error.param === 'encoding_format');
  assert.ok(validateEmbeddingsRequest({ model: 'e', input: ['a', 'b'] }));
  assert.ok(validateEmbeddingsRequest({ model: 'e', input: [[1, 2], [3]] }));
});
