import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { gcsBucket, type GcsBucket } from '../../support/infra.js';

describe('Google Cloud Storage (fake-gcs-server) through @google-cloud/storage', () => {
  let gcs: GcsBucket;
  beforeEach(async () => {
    gcs = await gcsBucket();
    onTestFinished(() => gcs.cleanup());
  });

  it('uploads (simple) and downloads an object', async () => {
    const body = randomBytes(64 * 1024);
    const file = gcs.bucket.file('archives/a1.tresor');
    await file.save(body, { resumable: false, contentType: 'application/octet-stream' });
    const [got] = await file.download();
    expect(got.equals(body)).toBe(true);
  });

  it('uploads through a resumable session and lists it', async () => {
    const body = randomBytes(1024 * 1024 + 17);
    const file = gcs.bucket.file('archives/a2.tresor');
    await file.save(body, { resumable: true });
    const [files] = await gcs.bucket.getFiles({ prefix: 'archives/' });
    expect(files.map((f) => f.name)).toEqual(['archives/a2.tresor']);
    const [meta] = await file.getMetadata();
    expect(Number(meta.size)).toBe(body.length);
    const [got] = await file.download();
    expect(got.equals(body)).toBe(true);
  });
});
