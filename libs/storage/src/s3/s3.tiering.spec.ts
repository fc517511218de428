import { randomBytes } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { IoError, NotFoundError, UnsupportedError, UsageError } from '@tresor/errors';
import { describe, expect, it, onTestFinished } from 'vitest';
import { s3Bucket } from '../../../../test/support/infra.js';
import type { S3Bucket } from '../../../../test/support/infra.js';
import { readAll } from '../conformance/index.js';
import { ColdObjectError } from '../tiering/storage-class.js';
import { parseS3Config } from './config.js';
import { toS3ColdReadError } from './errors.js';
import { S3Store } from './s3.store.js';

function configFor(s3: S3Bucket): ReturnType<typeof parseS3Config> {
  const credentials = s3.config.credentials as { accessKeyId: string; secretAccessKey: string };
  process.env.TRESOR_SPEC_S3_KEY_ID = credentials.accessKeyId;
  process.env.TRESOR_SPEC_S3_SECRET = credentials.secretAccessKey;
  return parseS3Config({
    bucket: s3.bucket,
    prefix: 'repo/',
    endpoint: s3.config.endpoint,
    region: s3.config.region,
    forcePathStyle: s3.config.forcePathStyle,
    credentials: {
      accessKeyId: { env: 'TRESOR_SPEC_S3_KEY_ID' },
      secretAccessKey: { env: 'TRESOR_SPEC_S3_SECRET' },
    },
  });
}

async function openStore(opts: { objectLock?: boolean } = {}): Promise<S3Store> {
  const s3 = await s3Bucket(opts);
  onTestFinished(() => s3.cleanup());
  const store = await S3Store.open(configFor(s3));
  onTestFinished(() => store.close());
  return store;
}

describe('S3Store storage classes (MinIO)', () => {
  it('moves an object to REDUCED_REDUNDANCY and back in place, keeping its bytes', async () => {
    const store = await openStore();
    const bytes = randomBytes(1000);
    await store.put('archives/a.tra', bytes);
    expect((await store.head('archives/a.tra'))?.storageClass).toBe('STANDARD');

    await store.setStorageClass('archives/a.tra', 'REDUCED_REDUNDANCY');
    // Once more is a no-op (S3 would refuse a copy onto itself that changes nothing).
    await store.setStorageClass('archives/a.tra', 'REDUCED_REDUNDANCY');
    expect((await store.head('archives/a.tra'))?.storageClass).toBe('REDUCED_REDUNDANCY');
    const listed = [];
    for await (const info of store.list('archives/')) listed.push(info);
    expect(listed).toMatchObject([{ key: 'archives/a.tra', size: 1000, storageClass: 'REDUCED_REDUNDANCY' }]);
    expect((await readAll(await store.get('archives/a.tra'))).equals(bytes)).toBe(true);

    await store.setStorageClass('archives/a.tra', 'STANDARD');
    expect((await store.head('archives/a.tra'))?.storageClass).toBe('STANDARD');
  });

  it('says which classes MinIO does not offer, and refuses unknown classes and missing objects', async () => {
    const store = await openStore();
    await store.put('archives/a.tra', randomBytes(10));
    const glacier = store.setStorageClass('archives/a.tra', 'GLACIER');
    await expect(glacier).rejects.toBeInstanceOf(UnsupportedError);
    await expect(glacier).rejects.toThrow(/does not offer this storage class \(InvalidStorageClass\)/);
    await expect(store.setStorageClass('archives/a.tra', 'COOL')).rejects.toBeInstanceOf(UsageError);
    await expect(store.setStorageClass('archives/nope.tra', 'STANDARD_IA')).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('refuses to move an object in an Object Lock bucket (the copy would lose its retention)', async () => {
    const store = await openStore({ objectLock: true });
    await store.put('archives/a.tra', randomBytes(10), { retainUntil: new Date(Date.now() + 3_600_000) });
    const move = store.setStorageClass('archives/a.tra', 'REDUCED_REDUNDANCY');
    await expect(move).rejects.toBeInstanceOf(UnsupportedError);
    await expect(move).rejects.toThrow(/Object Lock.*S3 lifecycle rule/);
    expect((await store.head('archives/a.tra'))?.storageClass).toBe('STANDARD');
  });
});

/**
 * MinIO has no GLACIER class (it answers InvalidStorageClass), so the read of an archived object
 * is shown with AWS's recorded answer, parsed by the real SDK: the client's request handler
 * returns the bytes AWS sends for a GetObject of a GLACIER object.
 */
describe('toS3ColdReadError (recorded AWS answers)', () => {
  const awsGlacierGet =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidObjectState</Code>' +
    "<Message>The operation is not valid for the object's storage class</Message>" +
    '<StorageClass>GLACIER</StorageClass><RequestId>QWJZ1R2Y1K1T3Q7X</RequestId>' +
    '<HostId>dGVzdA==</HostId></Error>';

  async function sdkErrorFor(status: number, body: string): Promise<unknown> {
    const client = new S3Client({
      region: 'eu-central-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' },
      maxAttempts: 1,
      requestHandler: {
        handle: async () => ({
          response: {
            statusCode: status,
            headers: { 'content-type': 'application/xml' },
            body: Buffer.from(body),
          },
        }),
      } as never,
    });
    try {
      await client.send(new GetObjectCommand({ Bucket: 'acme', Key: 'archives/a.tra' }));
    } catch (err) {
      return err;
    } finally {
      client.destroy();
    }
    throw new Error('the recorded answer did not fail');
  }

  it('turns GetObject of a GLACIER object into a one-line error naming the restore', async () => {
    const err = await sdkErrorFor(403, awsGlacierGet);
    expect((err as Error).name).toBe('InvalidObjectState');
    const mapped = toS3ColdReadError(err, 'archives/a.tra', 's3://acme/', 'AWS eu-central-1', {
      storageClass: 'GLACIER',
    });
    expect(mapped).toBeInstanceOf(ColdObjectError);
    expect(mapped).toBeInstanceOf(IoError);
    expect((mapped as Error).message).toBe(
      'object archives/a.tra is in the GLACIER storage class of s3://acme/ and cannot be read until it is restored: run `tresor storage rehydrate archives/a.tra` and retry when it has finished',
    );
  });

  it('says a restore is running when HEAD shows x-amz-restore ongoing-request="true"', async () => {
    const err = await sdkErrorFor(403, awsGlacierGet.replace('GLACIER', 'DEEP_ARCHIVE'));
    const mapped = toS3ColdReadError(err, 'archives/a.tra', 's3://acme/', 'AWS eu-central-1', {
      storageClass: 'DEEP_ARCHIVE',
      restore: 'ongoing-request="true"',
    });
    expect((mapped as ColdObjectError).state).toBe('restore-in-progress');
    expect((mapped as Error).message).toMatch(/DEEP_ARCHIVE .* its restore is in progress: retry when/);
  });

  it('leaves other InvalidObjectState answers to the general mapping', async () => {
    const err = await sdkErrorFor(403, awsGlacierGet.replace('<StorageClass>GLACIER</StorageClass>', ''));
    const mapped = toS3ColdReadError(err, 'archives/a.tra', 's3://acme/', 'AWS eu-central-1', {
      storageClass: 'STANDARD',
    });
    expect(mapped).not.toBeInstanceOf(ColdObjectError);
    expect((mapped as Error).message).toMatch(
      /^cannot read object archives\/a\.tra in s3:\/\/acme\/: .*\(InvalidObjectState\)$/,
    );
  });
});
