// Bedrock request signing reproduces the AWS SigV4 test-suite signatures (vectors and their source in __fixtures__/bedrock/sigv4-vectors.json).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { RequestSigner } from '../../src/providers/bedrock/signing.js';

interface VectorCase {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  sessionToken?: string;
  authorization: string;
}

const vectors = JSON.parse(readFileSync(new URL('./__fixtures__/bedrock/sigv4-vectors.json', import.meta.url), 'utf8')) as {
  region: string;
  service: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  signingDate: string;
  cases: VectorCase[];
};

for (const vector of vectors.cases) {
  test(`SigV4 test suite: ${vector.name}`, async () => {
    const credentials = { ...vectors.credentials, ...(vector.sessionToken ? { sessionToken: vector.sessionToken } : {}) };
    const signer = new RequestSigner(credentials, vectors.region, vectors.service);
    const headers = await signer.sign({ method: vector.method, url: new URL(vector.url), headers: vector.headers, ...(vector.body ? { body: vector.body } : {}) }, new Date(vectors.signingDate));
    assert.equal(headers.authorization, vector.authorization);
    assert.equal(headers['x-amz-date'], '20150830T123600Z');
    assert.equal(headers.host, 'example.amazonaws.com');
    if (vector.sessionToken) assert.equal(headers['x-amz-security-token'], vector.sessionToken);
  });
}

test('a different secret or a changed body gives a different signature', async () => {
  const date = new Date(vectors.signingDate);
  const request = { method: 'POST', url: new URL('https://example.amazonaws.com/'), headers: {}, body: '{"a":1}' };
  const reference = await new RequestSigner(vectors.credentials, vectors.region, vectors.service).sign(request, date);
  const otherSecret = await new RequestSigner({ ...vectors.credentials, secretAccessKey: 'another-secret' }, vectors.region, vectors.service).sign(request, date);
  const otherBody = await new RequestSigner(vectors.credentials, vectors.region, vectors.service).sign({ ...request, body: '{"a":2}' }, date);
  assert.notEqual(otherSecret.authorization, reference.authorization);
  assert.notEqual(otherBody.authorization, reference.authorization);
});

test('Bedrock requests are scoped to the bedrock service and the region, with no S3 payload header', async () => {
  const signer = new RequestSigner({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, 'eu-west-3');
  const headers = await signer.sign({ method: 'POST', url: new URL('https://bedrock-runtime.eu-west-3.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse'), headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.match(headers.authorization ?? '', /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-3\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}$/);
  assert.equal(headers['x-amz-content-sha256'], undefined);
});
