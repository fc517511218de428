import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TresorClient } from '@tresor/client';
import { TestCluster } from '../cluster/cluster.js';
import { hashTree } from '../support/tree.js';
import { until } from '../support/wait.js';
import { checkAfterFault, finished, jobStream, randomTree, repairTotals, Supervisor } from './cluster-faults.js';
import type { Accepted } from './cluster-faults.js';

/** Fast redelivery (5 s) and abort of idle uploads (2 s), so a killed service's work moves on within a test. */
const JOBS = { TRESOR_JOB_ACK_WAIT_MS: '5000' };

/**
 * Declares the kill tests, each kill `rounds` times over (1 in npm test; the long variant,
 * test/reliability/long/service-kills.long.ts, repeats them).
 *
 * `kill -9` of recovery mid-write, of the storage-gateway mid-transfer and of audit, each during a
 * stream of backups and restores through the gateway (engine and scheduler kills:
 * test/cluster/engine-failover and scheduler-failover). The test restarts the killed service as a
 * supervisor would; no other service is restarted. After each kill: every accepted job completed
 * once or failed with a reason; the cluster repair (`tresor fsck --server --repair`, run by the
 * monitoring service) removes whatever orphans are left, and then fsck finds nothing at all; every
 * completed backup restores byte for byte and the audit chain verifies.
 */
export function describeServiceKills(rounds: number): void {
  describe('services killed (-9) during a stream of backups and restores', () => {
    let cluster: TestCluster;
    let sup: Supervisor;
    let client: TresorClient;
    let gateway: string;
    let small: string;
    const accepted: Accepted[] = [];
    const checked = new Set<string>();

    beforeAll(async () => {
      cluster = await TestCluster.create();
      sup = new Supervisor(cluster);
      await sup.start('storage-gateway', { ...JOBS, TRESOR_UPLOAD_IDLE_MS: '2000' });
      // 40 ms per 64 KiB: a 3 MiB archive uploads for ~2 s, long enough to kill something mid-transfer.
      await sup.start('backup-engine', { ...JOBS, TRESOR_TEST_UPLOAD_DELAY_MS: '40' });
      await sup.start('recovery', JOBS);
      await sup.start('audit', JOBS);
      // Runs the cluster's fsck and repair (POST /v1/fsck).
      await sup.start('monitoring');
      gateway = (await sup.start('gateway', JOBS)).http;
      client = new TresorClient({ url: gateway });
      small = await randomTree(join(cluster.dir, 'keys'), 48, 64 * 1024);
    }, 300_000);
    afterAll(async () => {
      console.log(`service kills: the cluster repair found ${repairTotals.found} orphan(s) in all, removed ${repairTotals.removed}`);
      await cluster?.stop();
    });

    /** Runs the stream around `fault`, lets it go on until `after` more backups completed, then checks. */
    const underStream = async (name: string, fault: () => Promise<void>, after = 2) => {
      const stream = jobStream(client, small, cluster.dir);
      try {
        await until('a first backup of the stream', 120_000, async () =>
          stream.accepted.some((a) => a.kind === 'restore') ? true : undefined,
        );
        await fault();
        const before = stream.accepted.length;
        await until(
          `${after} more backups after the fault`,
          240_000,
          async () => {
            const later = stream.accepted.slice(before).filter((a) => a.kind === 'backup');
            const states = await Promise.all(
              later.map((a) => client.jobs.get(a.job.id).then((j) => j.state)),
            );
            return states.filter((s) => s === 'completed').length >= after ? true : undefined;
          },
          { tolerateErrors: true },
        );
      } finally {
        await stream.stop();
      }
      accepted.push(...stream.accepted);
      if (stream.refused.length)
        console.log(`${name}: refused while down: ${stream.refused.length} (first: ${stream.refused[0]})`);
      const summary = await checkAfterFault(cluster, client, gateway, accepted, name, checked);
      console.log(summary);
      sup.expectAllRunning();
    };

    const round = (n: number) => (rounds > 1 ? ` (round ${n})` : '');
    for (let n = 1; n <= rounds; n++) {
      it(`recovery killed while writing a restore${round(n)}`, { timeout: 900_000 }, async () => {
        // A bigger source, so the restore writes long enough to be caught mid-way.
        const big = await randomTree(join(cluster.dir, `big-${n}`), 96, 256 * 1024);
        const backup = await client.backups.create(
          { source: { kind: 'filesystem', location: big } },
          { idempotencyKey: randomUUID() },
        );
        accepted.push({ kind: 'backup', job: backup, source: big });
        const backupId = ((await finished(client, backup.id)).result as { backupId: string }).backupId;
        let restore: Accepted | undefined;
        await underStream('recovery kill -9 mid-write', async () => {
          const target = join(cluster.dir, `big-restored-${n}`);
          const job = await client.backups.restore({
            backup: backupId,
            target,
            include: [],
            exclude: [],
            dryRun: false,
            overwrite: false,
          });
          restore = { kind: 'restore', job, source: big, target };
          accepted.push(restore);
          // Files have reached the restore's staging directory: the write is under way.
          await until(
            'restored bytes in the staging directory',
            120_000,
            async () => {
              for (const d of (await readdir(cluster.dir)).filter((name) =>
                name.startsWith(`.big-restored-${n}.tresor-staging-`),
              )) {
                for (const f of await readdir(join(cluster.dir, d)).catch(() => []))
                  if ((await stat(join(cluster.dir, d, f)).catch(() => undefined))?.size) return true;
              }
              return undefined;
            },
            { intervalMs: 10 },
          );
          await sup.kill('recovery');
          expect((await client.jobs.get(job.id)).state, 'killed before the restore finished').not.toBe(
            'completed',
          );
          await sup.restart('recovery');
        });
        const done = await finished(client, restore!.job.id);
        console.log(
          `recovery kill -9 mid-write: the interrupted restore ${done.state} after ${done.attempts} attempt(s)`,
        );
        if (done.state === 'completed') expect(await hashTree(restore!.target!)).toEqual(await hashTree(big));
        const leftovers = (await readdir(cluster.dir)).filter((d) => d.includes('.tresor-staging-'));
        // The next attempt removed the killed one's partly written staging directory (it used to stay, key material in it).
        expect(leftovers).toEqual([]);
      });

      it(
        `storage-gateway killed while an archive is transferred${round(n)}`,
        { timeout: 900_000 },
        async () => {
          const tmp = join(cluster.repo, 'objects', '.tmp');
          let dead: string[] = [];
          await underStream('storage-gateway kill -9 mid-transfer', async () => {
            await until(
              'archive bytes staged at the storage-gateway',
              120_000,
              async () => {
                for (const f of await readdir(tmp).catch(() => []))
                  if ((await stat(join(tmp, f)).catch(() => undefined))?.size) return true;
                return undefined;
              },
              { intervalMs: 10 },
            );
            await sup.kill('storage-gateway');
            dead = await readdir(tmp);
            await sup.restart('storage-gateway');
          });
          // Uploads after the restart leave nothing staged. The dead process's partial upload stays in
          // .tmp until a storage-gateway starts when it is over an hour old (another replica sharing the
          // directory may still be writing a younger one): garbage, outside fsck's view, no data.
          const left = await until('staged uploads of the new process to be dropped', 60_000, async () => {
            const now = await readdir(tmp);
            return now.every((f) => dead.includes(f)) ? now : undefined;
          });
          console.log(
            `storage-gateway kill -9 mid-transfer: staged files of the killed process left in .tmp: ${left.length}`,
          );
          expect(left.length).toBeLessThanOrEqual(1);
        },
      );

      it(`audit killed while jobs run and requests arrive${round(n)}`, { timeout: 900_000 }, async () => {
        await underStream('audit kill -9', async () => {
          await sup.kill('audit');
          // Down for a while: requests arrive and job events pile up in the stream meanwhile.
          await new Promise((r) => setTimeout(r, 3000));
          await sup.restart('audit');
        });
      });
    }
  });
}
