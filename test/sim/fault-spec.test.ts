// The fault grammar: what parses, what it parses to, and the precise errors for what does not.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFaultSpec } from '../../src/sim/index.js';

describe('parseFaultSpec', () => {
  it('parses keys, flags and whitespace', () => {
    assert.deepEqual(parseFaultSpec('status=429; retry-after=2 ;times=3;code=rate_limit_exceeded'), {
      status: 429,
      retryAfter: '2',
      times: 3,
      code: 'rate_limit_exceeded',
    });
    assert.deepEqual(parseFaultSpec('malformed'), { malformed: true });
    assert.deepEqual(parseFaultSpec('cut-after=3;trickle=20'), { cutAfter: 3, trickleMs: 20 });
    assert.deepEqual(parseFaultSpec('stall-after=0'), { stallAfter: 0 });
    assert.deepEqual(parseFaultSpec('hang=after-headers'), { hang: 'after-headers' });
    assert.deepEqual(parseFaultSpec('connection=reset'), { connection: 'reset' });
    assert.deepEqual(parseFaultSpec('content-type=text/html'), { contentType: 'text/html' });
    assert.deepEqual(parseFaultSpec('model=sim-smart;endpoint=chat;status=500'), { model: 'sim-smart', endpoint: 'chat', status: 500 });
    assert.deepEqual(parseFaultSpec('none'), {});
  });

  it('keeps an HTTP-date retry-after verbatim, commas, spaces and colons included', () => {
    assert.equal(parseFaultSpec('status=503;retry-after=Wed, 21 Oct 2015 07:28:00 GMT').retryAfter, 'Wed, 21 Oct 2015 07:28:00 GMT');
    assert.equal(parseFaultSpec('status=503;retry-after=soon=ish').retryAfter, 'soon=ish');
  });

  it('rejects bad input with a message naming the problem', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      [' ; ', /empty/],
      ['bogus=1', /unknown fault key "bogus"/],
      ['status=abc', /"status" needs a whole number, got "abc"/],
      ['status=200', /from 400 to 599/],
      ['status', /"status" needs a value/],
      ['times=0;status=500', /"times" must be at least 1/],
      ['hang=forever', /"before-headers" or "after-headers"/],
      ['connection=close', /only supports "reset"/],
      ['malformed=yes', /takes no value/],
      ['status=500;hang=before-headers', /combines "status" and "hang"/],
      ['status=500;status=502', /appears twice/],
      ['retry-after=5', /needs "status"/],
      ['code=x', /needs "status"/],
      ['cut-after=-1', /whole number/],
      ['endpoint=files;status=500', /"chat", "embeddings" or "models"/],
    ];
    for (const [text, message] of cases) assert.throws(() => parseFaultSpec(text), message, `spec ${JSON.stringify(text)}`);
  });
});
