import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackupRecord } from '@tresor/catalog';
import { createLogger } from '@tresor/messaging';
import { LocalStore } from '@tresor/storage';
import { discardUncommitted } from './discard.js';

const FAILED = '20261126T100715Z-0000000a';
const COMMITTED = '20261126T100715Z-0000000b';

describe('discardUncommitted (a failed backup attempt\'s objects)', () => {
  let dir: string;
  let store: LocalStore;
  const logger = createLogger('backup-engine', 'test', 'silent');
  const keys = async () => {
    const all: string[] = [];
    for await (const o of store.list('')) all.push(o.key);
    return all.sort();
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-discard-'));
    store = await LocalStore.open({ path: dir });
    for (const id of [FAILED, COMMITTED]) {
      await store.put(`archives/${id}.tra`, Buffer.from('archive'));
      await store.put(`manifests/${id}.json`, Buffer.from('{}'));
    }
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('deletes what an uncatalogued attempt stored, keeps a catalogued backup and everything else', async () => {
    const catalog = { getBackup: async (id: string) => (id === COMMITTED ? ({ id } as BackupRecord) : undefined) };
    const written = new Set([`archives/${FAILED}.tra`, `manifests/${FAILED}.json`, `archives/${COMMITTED}.tra`, `manifests/${COMMITTED}.json`]);
    await discardUncommitted({ catalog, store, logger }, written);
    expect(await keys()).toEqual([`archives/${COMMITTED}.tra`, `manifests/${COMMITTED}.json`]);
  });

  it('deletes nothing when the catalog cannot be asked (the orphan sweep removes it later)', async () => {
    const catalog = { getBackup: async (): Promise<BackupRecord | undefined> => { throw new Error('catalog unreachable'); } };
    await discardUncommitted({ catalog, store, logger }, new Set([`archives/${FAILED}.tra`]));
    expect(await keys()).toHaveLength(4);
  });
});
