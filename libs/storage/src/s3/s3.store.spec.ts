import { randomBytes } from 'node:crypto';
import { ConflictError, UnsupportedError } from '@tresor/errors';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { s3Bucket } from '../../../../test/support/infra.js';
import type { S3Bucket } from '../../../../test/support/infra.js';
import { describeObjectStoreConformance, readAll } from '../conformance/index.js';
import { parseS3Config } from './config.js';
import { S3Store } from './s3.store.js';

/** The store's credentials travel by environment variable name, as in a real tresor.json. */
function configFor(s3: S3Bucket, prefix = ''): ReturnType<typeof parseS3Config> {
  const credentials = s3.config.credentials as { accessKeyId: string; secretAccessKey: string };
  process.env.TRESOR_SPEC_S3_KEY_ID = credentials.accessKeyId;
  process.env.TRESOR_SPEC_S3_SECRET = credentials.secretAccessKey;
  return parseS3Config({
    bucket: s3.bucket,
    prefix,
    endpoint: s3.config.endpoint,
    region: s3.config.region,
    forcePathStyle: s3.config.forcePathStyle,
    credentials: {
      accessKeyId: { env: 'TRESOR_SPEC_S3_KEY_ID' },
      secretAccessKey: { env: 'TRESOR_SPEC_S3_SECRET' },
    },
    partSizeMiB: 5,
  });
}

describeObjectStoreConformance('s3 (MinIO)', async () => {
  const s3 = await s3Bucket();
  const store = await S3Store.open(configFor(s3, 'repo/'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      await s3.cleanup();
    },
  };
}, {
  wrongCredentials: {
    message: /S3 endpoint http:\/\/127\.0\.0\.1:\d+ refused the credentials \(SignatureDoesNotMatch\)/,
    make: async () => {
      const s3 = await s3Bucket();
      const config = configFor(s3);
      process.env.TRESOR_SPEC_S3_WRONG_SECRET = 'wrong-secret-value-1234567890';
      return {
        open: () =>
          S3Store.open({
            ...config,
            credentials: { ...config.credentials!, secretAccessKey: { env: 'TRESOR_SPEC_S3_WRONG_SECRET' } },
          }),
        secrets: ['wrong-secret-value', process.env.TRESOR_SPEC_S3_SECRET!],
        cleanup: () => s3.cleanup(),
      };
    },
  },
});

describe('S3Store', () => {
  it('names the unset environment variable of a credential', async () => {
    const s3 = await s3Bucket();
    onTestFinished(() => s3.cleanup());
    const config = configFor(s3);
    delete process.env.TRESOR_SPEC_S3_UNSET;
    await expect(
      S3Store.open({
        ...config,
        credentials: { ...config.credentials!, accessKeyId: { env: 'TRESOR_SPEC_S3_UNSET' } },
      }),
    ).rejects.toThrow(/credentials\.accessKeyId: environment variable TRESOR_SPEC_S3_UNSET is not set/);
  });

  it('reports an unreachable endpoint as an IoError naming it', async () => {
    const s3 = await s3Bucket();
    onTestFinished(() => s3.cleanup());
    await expect(S3Store.open({ ...configFor(s3), endpoint: 'http://127.0.0.1:1' })).rejects.toThrow(
      /S3 endpoint http:\/\/127\.0\.0\.1:1 is unreachable \(ECONNREFUSED\)/,
    );
  });

  it('applies the storage class setting', async () => {
    const s3 = await s3Bucket();
    onTestFinished(() => s3.cleanup());
    const store = await S3Store.open({ ...configFor(s3), storageClass: 'REDUCED_REDUNDANCY' });
    onTestFinished(() => store.close());
    await store.put('a.bin', randomBytes(10));
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'a.bin' }));
    expect(head.StorageClass).toBe('REDUCED_REDUNDANCY');
  });

  it('requests server-side encryption, and says so when the server cannot do it', async () => {
    // MinIO without a KMS refuses SSE-S3 and SSE-KMS: the refusal proves the header is sent.
    const s3 = await s3Bucket();
    onTestFinished(() => s3.cleanup());
    const store = await S3Store.open({ ...configFor(s3), serverSideEncryption: { type: 'sse-s3' } });
    onTestFinished(() => store.close());
    const failure = store.put('a.bin', randomBytes(10));
    await expect(failure).rejects.toBeInstanceOf(UnsupportedError);
    await expect(failure).rejects.toThrow(/does not support a setting of this location: .*KMS/);
    expect(await store.head('a.bin')).toBeUndefined();
  });

  it('reports immutability only for a bucket with Object Lock, and refuses retention without it', async () => {
    const s3 = await s3Bucket();
    onTestFinished(() => s3.cleanup());
    const store = await S3Store.open(configFor(s3));
    onTestFinished(() => store.close());
    expect(store.capabilities.immutability).toBe(false);
    await expect(
      store.put('x.bin', randomBytes(10), { retainUntil: new Date(Date.now() + 60_000) }),
    ).rejects.toBeInstanceOf(UnsupportedError);
    expect(await store.head('x.bin')).toBeUndefined();
    await store.put('x.bin', randomBytes(10));
    expect(await store.retainedUntil('x.bin')).toBeUndefined();
  });

  it.each([5 * 1024 * 1024 - 1, 11 * 1024 * 1024])(
    'keeps a %i-byte object under retention: the server refuses delete and overwrite (WORM)',
    async (size) => {
      const s3 = await s3Bucket({ objectLock: true });
      onTestFinished(() => s3.cleanup());
      const store = await S3Store.open(configFor(s3));
      onTestFinished(() => store.close());
      expect(store.capabilities.immutability).toBe(true);
      const bytes = randomBytes(size);
      // S3 keeps retention dates to the second.
      const until = new Date(Math.ceil((Date.now() + 3_600_000) / 1000) * 1000);
      await store.put('archives/locked.tra', bytes, { retainUntil: until, retentionMode: 'governance' });
      expect(await store.retainedUntil('archives/locked.tra')).toEqual(until);
      expect(await store.retainedUntil('archives/missing.tra')).toBeUndefined();
      const deletion = store.delete('archives/locked.tra');
      await expect(deletion).rejects.toBeInstanceOf(ConflictError);
      await expect(deletion).rejects.toThrow(/refused by the server, the object is under retention/);
      await expect(store.put('archives/locked.tra', randomBytes(10))).rejects.toBeInstanceOf(ConflictError);
      expect((await readAll(await store.get('archives/locked.tra'))).equals(bytes)).toBe(true);
    },
  );
});

describe('parseS3Config', () => {
  it('fills defaults and keeps credentials as references', () => {
    const config = parseS3Config({
      bucket: 'my-bucket',
      credentials: { accessKeyId: { env: 'K' }, secretAccessKey: { file: '/run/s' } },
    });
    expect(config).toMatchObject({
      bucket: 'my-bucket',
      prefix: '',
      region: 'us-east-1',
      forcePathStyle: false,
      partSizeMiB: 8,
    });
  });

  it.each([
    [{ bucket: 'My_Bucket' }, /bucket: is not a valid S3 bucket name/],
    [{ bucket: 'b-1', prefix: 'no-slash' }, /prefix: must be segments/],
    [
      { bucket: 'b-1', credentials: { accessKeyId: 'AKIA...', secretAccessKey: 'x' } },
      /credentials\.accessKeyId/,
    ],
    [{ bucket: 'b-1', storageClass: 'COLD' }, /storageClass/],
    [{ bucket: 'b-1', extra: true }, /s3 storage settings: Unrecognized key/],
  ])('rejects %j naming the field', (input, message) => {
    expect(() => parseS3Config(input)).toThrow(message);
  });
});
