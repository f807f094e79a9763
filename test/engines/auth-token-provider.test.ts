/**
 * The real @aws-sdk/rds-signer token, verified offline: AWS is not reachable (nock refuses
 * every connection), and the signature is recomputed with @smithy/signature-v4 from the
 * same credentials and X-Amz-Date, with a SHA-256 from node:crypto.
 */
import { createHash, createHmac, type BinaryLike } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rdsSignerTokenProvider } from '../../src/engines/iam/auth-token-provider.js';
import { GatehouseError } from '../../src/errors/catalogue.js';

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const TARGET = {
  hostname: 'prod.cluster-abc123.eu-west-1.rds.amazonaws.com',
  port: 5432,
  username: 'gatehouse',
  region: 'eu-west-1',
};

class NodeSha256 {
  readonly #hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash =
      secret === undefined ? createHash('sha256') : createHmac('sha256', toBinary(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(toBinary(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

function toBinary(data: string | ArrayBuffer | ArrayBufferView): BinaryLike {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

async function presignAgain(
  secretAccessKey: string,
  signingDate: Date,
): Promise<string | undefined> {
  const signer = new SignatureV4({
    service: 'rds-db',
    region: TARGET.region,
    credentials: { ...CREDENTIALS, secretAccessKey },
    sha256: NodeSha256,
  });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname: TARGET.hostname,
      port: TARGET.port,
      path: '/',
      query: { Action: 'connect', DBUser: TARGET.username },
      headers: { host: `${TARGET.hostname}:${TARGET.port}` },
    },
    { expiresIn: 900, signingDate },
  );
  const signature = presigned.query?.['X-Amz-Signature'];
  return typeof signature === 'string' ? signature : undefined;
}

describe('rdsSignerTokenProvider', () => {
  beforeAll(() => nock.disableNetConnect());
  afterAll(() => nock.enableNetConnect());

  it('mints a SigV4 presigned rds-db connect URL that verifies offline', async () => {
    const token = await rdsSignerTokenProvider(CREDENTIALS).getToken(TARGET);
    expect(token.startsWith(`${TARGET.hostname}:5432/?`)).toBe(true);
    const url = new URL(`https://${token}`);
    const params = url.searchParams;
    expect(url.pathname).toBe('/');
    expect(params.get('Action')).toBe('connect');
    expect(params.get('DBUser')).toBe('gatehouse');
    expect(params.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(params.get('X-Amz-Expires')).toBe('900');
    expect(params.get('X-Amz-SignedHeaders')).toBe('host');
    const amzDate = params.get('X-Amz-Date') ?? '';
    expect(amzDate).toMatch(/^\d{8}T\d{6}Z$/);
    expect(params.get('X-Amz-Credential')).toBe(
      `AKIDEXAMPLE/${amzDate.slice(0, 8)}/eu-west-1/rds-db/aws4_request`,
    );
    const signingDate = new Date(
      amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    const signature = params.get('X-Amz-Signature');
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(await presignAgain(CREDENTIALS.secretAccessKey, signingDate)).toBe(signature);
    // The check has teeth: another secret gives another signature.
    expect(await presignAgain('not-the-secret', signingDate)).not.toBe(signature);
  });

  it('signs for the user it is asked for', async () => {
    const provider = rdsSignerTokenProvider(CREDENTIALS);
    const other = await provider.getToken({ ...TARGET, username: 'someone_else' });
    expect(new URL(`https://${other}`).searchParams.get('DBUser')).toBe('someone_else');
  });

  it('reports a credentials failure as IAM_TOKEN_FAILED', async () => {
    const provider = rdsSignerTokenProvider(async () => {
      throw new Error('no credentials in the chain');
    });
    const error = await provider.getToken(TARGET).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatehouseError);
    expect((error as GatehouseError).code).toBe('IAM_TOKEN_FAILED');
  });
});
