import { randomBytes } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { azureContainer, type AzureContainer } from '../../support/infra.js';

describe('Azure Blob (Azurite) through @azure/storage-blob', () => {
  it('uploads, lists and downloads a block blob', async () => {
    const az: AzureContainer = await azureContainer();
    onTestFinished(() => az.cleanup());
    const body = randomBytes(3 * 1024 * 1024 + 5);
    const blob = az.container.getBlockBlobClient('archives/a1.tresor');
    await blob.uploadData(body, { blockSize: 1024 * 1024, metadata: { tresor: 'archive' } });
    const names: string[] = [];
    for await (const b of az.container.listBlobsFlat({ prefix: 'archives/' })) names.push(b.name);
    expect(names).toEqual(['archives/a1.tresor']);
    const props = await blob.getProperties();
    expect(props.contentLength).toBe(body.length);
    expect(props.metadata).toEqual({ tresor: 'archive' });
    expect((await blob.downloadToBuffer()).equals(body)).toBe(true);
  });
});
