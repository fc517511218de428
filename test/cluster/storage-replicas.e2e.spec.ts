import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TresorClient } from '@tresor/client';
import type { JobRecord } from '@tresor/contracts';
import { TestCluster } from './cluster.js';
import { hashTree } from '../support/tree.js';

async function finished(client: TresorClient, id: string): Promise<JobRecord> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const j = await client.jobs.get(id);
    if (j.state === 'completed' || j.state === 'failed') return j;
    if (Date.now() > deadline) throw new Error(`job ${id} did not finish within 60 s (state ${j.state})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('two storage-gateway replicas', () => {
  let cluster: TestCluster;
  let client: TresorClient;
  beforeAll(async () => {
    cluster = await TestCluster.create();
    await Promise.all([cluster.start('storage-gateway'), cluster.start('storage-gateway')]);
    await Promise.all([cluster.start('backup-engine'), cluster.start('recovery')]);
    client = new TresorClient({ url: (await cluster.start('gateway')).http });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('sends every chunk of an upload to the replica that began it: multi-chunk backups restore byte for byte', async () => {
    const src = join(cluster.dir, 'keys');
    await mkdir(src, { recursive: true });
    // ~2 MiB of incompressible data: the archive travels in 8+ chunks of 256 KiB.
    for (let i = 0; i < 16; i++) await writeFile(join(src, `key-${i}.bin`), randomBytes(128 * 1024), { mode: 0o600 });
    for (let round = 0; round < 3; round++) {
      await writeFile(join(src, `round-${round}.bin`), randomBytes(600 * 1024));
      const backup = await finished(client, (await client.backups.create({ source: { kind: 'filesystem', location: src }, level: 'full' })).id);
      expect(backup.error).toBeNull();
      expect(backup.state).toBe('completed');
      const target = join(cluster.dir, `restored-${round}`);
      const restore = await finished(client, (await client.backups.restore({ backup: (backup.result as { backupId: string }).backupId, target })).id);
      expect(restore.error).toBeNull();
      expect(await hashTree(target)).toEqual(await hashTree(src));
    }
  });
});
