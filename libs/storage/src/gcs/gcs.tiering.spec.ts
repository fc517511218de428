import { randomBytes } from 'node:crypto';
import { UnsupportedError, UsageError } from '@tresor/errors';
import { describe, expect, it, onTestFinished } from 'vitest';
import { gcsBucket } from '../../../../test/support/infra.js';
import { parseGcsConfig } from './config.js';
import { GcsStore } from './gcs.store.js';

describe('GcsStore storage classes (fake-gcs-server)', () => {
  it('reports each object class, and says so when the server ignores a class rewrite', async () => {
    const gcs = await gcsBucket();
    onTestFinished(() => gcs.cleanup());
    const config = {
      bucket: gcs.bucketName,
      apiEndpoint: gcs.options.apiEndpoint,
      projectId: gcs.options.projectId,
    };
    const plain = await GcsStore.open(parseGcsConfig(config));
    const archive = await GcsStore.open(parseGcsConfig({ ...config, storageClass: 'ARCHIVE' }));
    await plain.put('archives/a.tra', randomBytes(10));
    await archive.put('archives/b.tra', randomBytes(20));
    const listed = [];
    for await (const info of plain.list('archives/')) listed.push(info);
    expect(listed).toMatchObject([
      { key: 'archives/a.tra', size: 10, storageClass: 'STANDARD' },
      { key: 'archives/b.tra', size: 20, storageClass: 'ARCHIVE' },
    ]);
    await plain.setStorageClass('archives/b.tra', 'ARCHIVE');

    // fake-gcs-server answers objects.rewrite with the class unchanged; Google applies it.
    const move = plain.setStorageClass('archives/a.tra', 'COLDLINE');
    await expect(move).rejects.toBeInstanceOf(UnsupportedError);
    await expect(move).rejects.toThrow(/answered the rewrite but kept the object in STANDARD$/);
    await expect(plain.setStorageClass('archives/a.tra', 'Cool')).rejects.toBeInstanceOf(UsageError);
  });
});
