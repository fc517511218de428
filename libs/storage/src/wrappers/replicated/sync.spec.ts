import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { azureContainer } from '../../../../../test/support/infra.js';
import { AzureStore } from '../../azure/azure.store.js';
import { parseAzureConfig } from '../../azure/config.js';
import { readAll, sha256 } from '../../conformance/index.js';
import { LocalStore } from '../../local/local.store.js';
import type { NamedStore } from './replicated.store.js';
import { syncLocations } from './sync.js';

async function localLocations(names: string[]): Promise<{ dir: string; locations: NamedStore[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'tresor-sync-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const locations = await Promise.all(
    names.map(async (name) => ({ name, store: await LocalStore.open({ path: join(dir, name) }) })),
  );
  return { dir, locations };
}

/** Puts `bytes` under `key` in every location. */
async function putAll(locations: readonly NamedStore[], key: string, bytes: Buffer): Promise<void> {
  for (const l of locations) await l.store.put(key, bytes);
}

const contentOf = async (l: NamedStore, key: string): Promise<Buffer> => readAll(await l.store.get(key));

describe('syncLocations repairs wrong copies', () => {
  it('finds a copy with one flipped byte only when verifying content, and replaces it from the majority', async () => {
    const { dir, locations } = await localLocations(['a', 'b', 'c']);
    const bytes = randomBytes(4096);
    await putAll(locations, 'archives/x.tra', bytes);
    await putAll(locations, 'manifests/x.json', Buffer.from('{}\n'));
    const corrupt = Buffer.from(bytes);
    corrupt[100]! ^= 0xff;
    await writeFile(join(dir, 'b', 'archives/x.tra'), corrupt);

    // Sizes alike: the listings alone cannot tell.
    expect(await syncLocations(locations)).toEqual([]);
    const actions = await syncLocations(locations, { verifyContent: true });
    expect(actions).toEqual([
      {
        key: 'archives/x.tra',
        to: 'b',
        from: 'a',
        outcome: 'repaired',
        detail: `SHA-256 ${sha256(corrupt)} differs from the other copies`,
      },
    ]);
    expect((await contentOf(locations[1]!, 'archives/x.tra')).equals(bytes)).toBe(true);
    expect(await syncLocations(locations, { verifyContent: true })).toEqual([]);
  });

  it('repairs a truncated copy by the size the catalog expects, and copies a missing one', async () => {
    const { dir, locations } = await localLocations(['a', 'b']);
    const bytes = randomBytes(2000);
    await putAll(locations, 'archives/x.tra', bytes);
    await writeFile(join(dir, 'a', 'archives/x.tra'), bytes.subarray(0, 1000));
    await locations[1]!.store.put('archives/y.tra', Buffer.from('y'));
    const expected = (key: string) =>
      key === 'archives/x.tra' ? { size: 2000, sha256: sha256(bytes) } : undefined;
    expect(await syncLocations(locations, { expected })).toEqual([
      { key: 'archives/x.tra', to: 'a', from: 'b', outcome: 'repaired', detail: 'size 1000, expected 2000' },
      { key: 'archives/y.tra', to: 'a', from: 'b', outcome: 'copied' },
    ]);
    expect((await contentOf(locations[0]!, 'archives/x.tra')).equals(bytes)).toBe(true);
  });

  it('uses the expected SHA-256 where two copies disagree, and leaves them alone when nothing says which is right', async () => {
    const { dir, locations } = await localLocations(['a', 'b']);
    const bytes = randomBytes(500);
    const other = randomBytes(500);
    await putAll(locations, 'archives/x.tra', bytes);
    await writeFile(join(dir, 'a', 'archives/x.tra'), other);

    const unresolved = await syncLocations(locations, { verifyContent: true });
    expect(unresolved.map((a) => [a.to, a.outcome])).toEqual([
      ['a', 'failed'],
      ['b', 'failed'],
    ]);
    expect(unresolved[0]!.detail).toMatch(/copies differ .* and nothing says which is right/);
    expect((await contentOf(locations[0]!, 'archives/x.tra')).equals(other)).toBe(true);

    const expected = () => ({ sha256: sha256(bytes), size: 500 });
    expect(await syncLocations(locations, { verifyContent: true, expected })).toEqual([
      {
        key: 'archives/x.tra',
        to: 'a',
        from: 'b',
        outcome: 'repaired',
        detail: `SHA-256 ${sha256(other)}, expected ${sha256(bytes)}`,
      },
    ]);
    expect((await contentOf(locations[0]!, 'archives/x.tra')).equals(bytes)).toBe(true);
  });

  it('reports a copy in the Archive tier as skipped rather than replacing what it cannot read (Azurite)', async () => {
    const { locations } = await localLocations(['disk']);
    const azure = await azureContainer();
    onTestFinished(() => azure.cleanup());
    process.env.TRESOR_SPEC_AZURE_CONNECTION = azure.connectionString;
    const cloud = await AzureStore.open(
      parseAzureConfig({
        container: azure.containerName,
        connectionString: { env: 'TRESOR_SPEC_AZURE_CONNECTION' },
      }),
    );
    const all = [...locations, { name: 'cloud', store: cloud }];
    await putAll(all, 'archives/x.tra', randomBytes(100));
    await cloud.setStorageClass('archives/x.tra', 'Archive');
    const actions = await syncLocations(all, { verifyContent: true });
    expect(actions).toEqual([
      {
        key: 'archives/x.tra',
        to: 'cloud',
        outcome: 'skipped',
        detail: expect.stringMatching(/^object archives\/x\.tra is in the Archive storage class of /),
      },
    ]);
    expect((await cloud.head('archives/x.tra'))?.storageClass).toBe('Archive');
  });
});
