import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoError, UnsupportedError, UsageError } from '@tresor/errors';
import { describe, expect, it, onTestFinished } from 'vitest';
import { gcsBucket } from '../../../../test/support/infra.js';
import type { GcsBucket } from '../../../../test/support/infra.js';
import { describeObjectStoreConformance } from '../conformance/index.js';
import { parseGcsConfig } from './config.js';
import type { GcsConfig } from './config.js';
import { GcsStore } from './gcs.store.js';

function configFor(gcs: GcsBucket, extra: Record<string, unknown> = {}): GcsConfig {
  return parseGcsConfig({
    bucket: gcs.bucketName,
    apiEndpoint: gcs.options.apiEndpoint,
    projectId: gcs.options.projectId,
    chunkSizeMiB: 1,
    ...extra,
  });
}

describeObjectStoreConformance('gcs (fake-gcs-server)', async () => {
  const gcs = await gcsBucket();
  return { store: await GcsStore.open(configFor(gcs, { prefix: 'repo/' })), cleanup: () => gcs.cleanup() };
}, {
  wrongCredentials: {
    notApplicable:
      'fake-gcs-server accepts any credentials, so a refused key can only be shown against Google itself; an unusable key file is named without its content below',
  },
});

describe('GcsStore', () => {
  it('uploads a multi-chunk object resumably with the configured storage class', async () => {
    const gcs = await gcsBucket();
    onTestFinished(() => gcs.cleanup());
    const store = await GcsStore.open(configFor(gcs, { storageClass: 'COLDLINE' }));
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    await store.put('a.bin', bytes);
    const [meta] = await gcs.bucket.file('a.bin').getMetadata();
    expect(Number(meta.size)).toBe(bytes.length);
    expect(meta.storageClass).toBe('COLDLINE');
  });

  it('reports an unreachable endpoint as an IoError naming it', async () => {
    const gcs = await gcsBucket();
    onTestFinished(() => gcs.cleanup());
    const failure = GcsStore.open(configFor(gcs, { apiEndpoint: 'http://127.0.0.1:1' }));
    await expect(failure).rejects.toBeInstanceOf(IoError);
    await expect(failure).rejects.toThrow(
      /GCS endpoint http:\/\/127\.0\.0\.1:1 is unreachable \(ECONNREFUSED\)/,
    );
  });

  it('names an unusable key file without showing its content', async () => {
    // fake-gcs-server checks no credentials, so a refused key can only be tested against Google.
    const gcs = await gcsBucket();
    onTestFinished(() => gcs.cleanup());
    const dir = await mkdtemp(join(tmpdir(), 'tresor-gcs-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const keyFile = join(dir, 'key.json');
    await writeFile(keyFile, 'private-key-material-not-json');
    const failure = GcsStore.open(configFor(gcs, { keyFile: { file: keyFile } }));
    await expect(failure).rejects.toBeInstanceOf(UsageError);
    await expect(failure).rejects.toThrow(/keyFile: not a JSON service-account key/);
    await failure.catch((err: Error) => expect(err.message).not.toContain('private-key-material'));
  });

  it('refuses a retention request', async () => {
    const gcs = await gcsBucket();
    onTestFinished(() => gcs.cleanup());
    const store = await GcsStore.open(configFor(gcs));
    await expect(
      store.put('x', randomBytes(1), { retainUntil: new Date(Date.now() + 60_000) }),
    ).rejects.toBeInstanceOf(UnsupportedError);
  });
});

describe('parseGcsConfig', () => {
  it.each([
    [{ bucket: 'B' }, /bucket: is not a valid GCS bucket name/],
    [{ bucket: 'bucket', storageClass: 'GLACIER' }, /storageClass/],
    [{ bucket: 'bucket', keyFile: '{"private_key":"..."}' }, /keyFile/],
  ])('rejects %j naming the field', (input, message) => {
    expect(() => parseGcsConfig(input)).toThrow(message);
  });
});
