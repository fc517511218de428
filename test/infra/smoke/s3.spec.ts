import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3Bucket, type S3Bucket } from '../../support/infra.js';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('S3 (MinIO) through @aws-sdk/client-s3 and @aws-sdk/lib-storage', () => {
  it('uploads in several parts and reads the same bytes back', async () => {
    const plain: S3Bucket = await s3Bucket();
    onTestFinished(() => plain.cleanup());
    const body = randomBytes(11 * 1024 * 1024 + 123); // 3 parts of 5 MiB, 5 MiB, 1 MiB+
    const upload = new Upload({
      client: plain.client,
      params: { Bucket: plain.bucket, Key: 'archives/a1.tresor', Body: body },
      partSize: 5 * 1024 * 1024,
      queueSize: 2,
    });
    let parts = 0;
    upload.on('httpUploadProgress', (p) => {
      if (p.part) parts = Math.max(parts, p.part);
    });
    await upload.done();
    expect(parts).toBe(3);
    const head = await plain.client.send(
      new HeadObjectCommand({ Bucket: plain.bucket, Key: 'archives/a1.tresor' }),
    );
    expect(head.ContentLength).toBe(body.length);
    expect(head.ETag).toMatch(/-3"$/); // multipart ETag
    const got = await plain.client.send(
      new GetObjectCommand({ Bucket: plain.bucket, Key: 'archives/a1.tresor' }),
    );
    expect(sha256(await got.Body!.transformToByteArray())).toBe(sha256(body));
  });

  it('refuses to delete an object version under GOVERNANCE retention', async () => {
    const locked: S3Bucket = await s3Bucket({ objectLock: true });
    onTestFinished(() => locked.cleanup());
    const retainUntil = new Date(Date.now() + 24 * 3600 * 1000);
    const put = await locked.client.send(
      new PutObjectCommand({
        Bucket: locked.bucket,
        Key: 'manifests/m1.json',
        Body: '{"immutable":true}',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: retainUntil,
      }),
    );
    expect(put.VersionId).toBeTruthy();
    const retention = await locked.client.send(
      new GetObjectRetentionCommand({
        Bucket: locked.bucket,
        Key: 'manifests/m1.json',
        VersionId: put.VersionId,
      }),
    );
    expect(retention.Retention?.Mode).toBe('GOVERNANCE');

    const refused = await locked.client
      .send(
        new DeleteObjectCommand({
          Bucket: locked.bucket,
          Key: 'manifests/m1.json',
          VersionId: put.VersionId,
        }),
      )
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    // AWS answers 403 AccessDenied; MinIO answers 400 InvalidRequest "Object is WORM protected".
    expect(['AccessDenied', 'InvalidRequest']).toContain((refused as { name: string }).name);

    // Still there, same version.
    const head = await locked.client.send(
      new HeadObjectCommand({ Bucket: locked.bucket, Key: 'manifests/m1.json', VersionId: put.VersionId }),
    );
    expect(head.ObjectLockMode).toBe('GOVERNANCE');
  });
});
