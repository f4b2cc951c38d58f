// AWS Signature Version 4 for Bedrock requests, by @smithy/signature-v4 (the AWS SDK's own signer) over SHA-256 from @aws-crypto.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentials } from './credentials.js';
import { withHeader } from '../../core/objects.js';

export interface RequestToSign {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

export class RequestSigner {
  private readonly signer: SignatureV4;

  /** Built once per provider: the signer caches its derived signing key per day. */
  constructor(credentials: AwsCredentials, region: string, service = 'bedrock') {
    // applyChecksum: false — Bedrock does not want x-amz-content-sha256 (an S3 header); the payload hash is still signed.
    this.signer = new SignatureV4({ credentials, region, service, sha256: Sha256, applyChecksum: false });
  }

  /** The request's headers plus `host`, `x-amz-date`, `x-amz-security-token` (when temporary) and `authorization`. */
  async sign(request: RequestToSign, signingDate?: Date): Promise<Record<string, string>> {
    const query: Record<string, string> = {};
    for (const [name, value] of request.url.searchParams) query[name] = value;
    const signed = await this.signer.sign(
      {
        method: request.method,
        protocol: request.url.protocol,
        hostname: request.url.hostname,
        ...(request.url.port ? { port: Number(request.url.port) } : {}),
        path: request.url.pathname,
        query,
        headers: withHeader(request.headers, 'host', request.url.host),
        ...(request.body === undefined ? {} : { body: request.body }),
      },
      signingDate ? { signingDate } : {},
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) headers[name] = String(value);
    return headers;
  }
}
