import { randomBytes } from 'node:crypto';
import { UnsupportedError } from '@tresor/errors';
import { describe, expect, it, onTestFinished } from 'vitest';
import { azureContainer } from '../../../../test/support/infra.js';
import type { AzureContainer } from '../../../../test/support/infra.js';
import { describeObjectStoreConformance } from '../conformance/index.js';
import { parseAzureConfig } from './config.js';
import type { AzureConfig } from './config.js';
import { AzureStore } from './azure.store.js';

/** The connection string travels by environment variable name, as in a real tresor.json. */
function configFor(azure: AzureContainer, extra: Record<string, unknown> = {}): AzureConfig {
  process.env.TRESOR_SPEC_AZURE_CONNECTION = azure.connectionString;
  return parseAzureConfig({
    container: azure.containerName,
    connectionString: { env: 'TRESOR_SPEC_AZURE_CONNECTION' },
    blockSizeMiB: 2,
    ...extra,
  });
}

describeObjectStoreConformance('azure (Azurite)', async () => {
  const azure = await azureContainer();
  return {
    store: await AzureStore.open(configFor(azure, { prefix: 'repo/' })),
    cleanup: () => azure.cleanup(),
  };
}, {
  wrongCredentials: {
    message: /Azure Blob endpoint http:\/\/127\.0\.0\.1:\d+\/\S+ refused the credentials/,
    make: async () => {
      const azure = await azureContainer();
      const wrongKey = randomBytes(64).toString('base64');
      process.env.TRESOR_SPEC_AZURE_WRONG = azure.connectionString.replace(/AccountKey=[^;]+/, `AccountKey=${wrongKey}`);
      const rightKey = /AccountKey=([^;]+)/.exec(azure.connectionString)![1]!;
      return {
        open: () => AzureStore.open({ ...configFor(azure), connectionString: { env: 'TRESOR_SPEC_AZURE_WRONG' } }),
        secrets: [wrongKey, rightKey, 'AccountKey'],
        cleanup: () => azure.cleanup(),
      };
    },
  },
});

describe('AzureStore', () => {
  it('reports an unreachable endpoint as an IoError naming it', async () => {
    const azure = await azureContainer();
    onTestFinished(() => azure.cleanup());
    process.env.TRESOR_SPEC_AZURE_NOWHERE = azure.connectionString.replace(
      /BlobEndpoint=[^;]+/,
      'BlobEndpoint=http://127.0.0.1:1/devstoreaccount1',
    );
    await expect(
      AzureStore.open({ ...configFor(azure), connectionString: { env: 'TRESOR_SPEC_AZURE_NOWHERE' } }),
    ).rejects.toThrow(
      /Azure Blob endpoint http:\/\/127\.0\.0\.1:1\/devstoreaccount1 is unreachable \(ECONNREFUSED\)/,
    );
  });

  it('stages a multi-block object and sets the access tier', async () => {
    const azure = await azureContainer();
    onTestFinished(() => azure.cleanup());
    const store = await AzureStore.open(configFor(azure, { blockSizeMiB: 1, accessTier: 'Cool' }));
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    await store.put('a.bin', bytes);
    const blob = azure.container.getBlockBlobClient('a.bin');
    expect((await blob.getBlockList('committed')).committedBlocks).toHaveLength(4);
    expect((await blob.getProperties()).accessTier).toBe('Cool');
  });

  it('refuses a retention request (immutability is an account policy on Azure, not per put)', async () => {
    const azure = await azureContainer();
    onTestFinished(() => azure.cleanup());
    const store = await AzureStore.open(configFor(azure));
    await expect(
      store.put('x', randomBytes(1), { retainUntil: new Date(Date.now() + 60_000) }),
    ).rejects.toBeInstanceOf(UnsupportedError);
  });
});

describe('parseAzureConfig', () => {
  it.each([
    [{ container: 'tresor' }, /connectionString: give exactly one of/],
    [{ container: 'tresor', accountKey: { env: 'K' }, accountName: 'a' }, /accountUrl: is required/],
    [
      { container: 'Bad_Name', sasToken: { env: 'S' }, accountUrl: 'https://a.blob.core.windows.net' },
      /container: is not a valid/,
    ],
    [
      { container: 'tresor', connectionString: 'DefaultEndpointsProtocol=https;AccountKey=x' },
      /connectionString/,
    ],
  ])('rejects %j naming the field', (input, message) => {
    expect(() => parseAzureConfig(input)).toThrow(message);
  });
});
