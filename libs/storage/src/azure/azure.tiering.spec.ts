import { randomBytes } from 'node:crypto';
import { NotFoundError, UsageError } from '@tresor/errors';
import { describe, expect, it, onTestFinished } from 'vitest';
import { azureContainer } from '../../../../test/support/infra.js';
import { readAll } from '../conformance/index.js';
import { ColdObjectError } from '../tiering/storage-class.js';
import { parseAzureConfig } from './config.js';
import { AzureStore } from './azure.store.js';

async function openStore(): Promise<AzureStore> {
  const azure = await azureContainer();
  onTestFinished(() => azure.cleanup());
  process.env.TRESOR_SPEC_AZURE_CONNECTION = azure.connectionString;
  return AzureStore.open(
    parseAzureConfig({
      container: azure.containerName,
      prefix: 'repo/',
      connectionString: { env: 'TRESOR_SPEC_AZURE_CONNECTION' },
    }),
  );
}

describe('AzureStore access tiers (Azurite)', () => {
  it('moves a blob through Cool and Cold, reporting the tier in head and list', async () => {
    const store = await openStore();
    const bytes = randomBytes(1000);
    await store.put('archives/a.tra', bytes);
    expect((await store.head('archives/a.tra'))?.storageClass).toBe('Hot');
    await store.setStorageClass('archives/a.tra', 'Cool');
    await store.setStorageClass('archives/a.tra', 'Cold');
    await store.setStorageClass('archives/a.tra', 'Cold');
    const listed = [];
    for await (const info of store.list('archives/')) listed.push(info);
    expect(listed).toMatchObject([{ key: 'archives/a.tra', size: 1000, storageClass: 'Cold' }]);
    expect((await readAll(await store.get('archives/a.tra'))).equals(bytes)).toBe(true);
    await expect(store.setStorageClass('archives/a.tra', 'GLACIER')).rejects.toBeInstanceOf(UsageError);
    await expect(store.setStorageClass('archives/nope.tra', 'Cool')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses to read an Archive blob with a one-line error naming the rehydration, and reads it after', async () => {
    const store = await openStore();
    const bytes = randomBytes(1000);
    await store.put('archives/a.tra', bytes);
    await store.setStorageClass('archives/a.tra', 'Archive');
    for (const range of [undefined, { offset: 10, length: 20 }]) {
      const read = store.get('archives/a.tra', range);
      await expect(read).rejects.toBeInstanceOf(ColdObjectError);
      await expect(read).rejects.toThrow(
        /^object archives\/a\.tra is in the Archive storage class of azure:\/\/\S+\/repo\/ at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1 and cannot be read until it is restored: run `tresor storage rehydrate archives\/a\.tra` and retry when it has finished$/,
      );
    }
    // Azurite rehydrates at once; Azure takes up to 15 hours (Standard priority).
    await store.rehydrate('archives/a.tra', { days: 1 });
    expect((await store.head('archives/a.tra'))?.storageClass).toBe('Hot');
    expect((await readAll(await store.get('archives/a.tra'))).equals(bytes)).toBe(true);
  });
});
