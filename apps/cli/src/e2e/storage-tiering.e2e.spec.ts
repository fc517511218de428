import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { azureContainer } from '../../../../test/support/infra.js';
import { backupJson, makeKeyTree, removeDir, snapshotTree, tempDir, tresor } from './support.js';

const day = 86_400_000;

describe('tresor storage tier, cost and rehydrate (Azurite)', () => {
  it('tiers old archives only, prices them per source, and a restore from Archive says to rehydrate', async () => {
    const dir = await tempDir();
    onTestFinished(() => removeDir(dir));
    const azure = await azureContainer();
    onTestFinished(() => azure.cleanup());
    const env = { E2E_AZURE_CONNECTION: azure.connectionString };
    const repo = join(dir, 'repo');
    const source = join(dir, 'keys');
    await makeKeyTree(source);
    const location = {
      name: 'cloud',
      type: 'azure',
      container: azure.containerName,
      connectionString: { env: 'E2E_AZURE_CONNECTION' },
      lifecycle: {
        tiering: [
          { afterDays: 30, class: 'Cool' },
          { afterDays: 90, class: 'Archive' },
        ],
      },
      prices: { currency: 'EUR', perGiBMonth: { Hot: 20, Cool: 10, Archive: 1 } },
    };
    const init = await tresor(
      ['--repo', repo, 'init', '--kdf', 'scrypt', '--storage', JSON.stringify(location)],
      env,
    );
    expect(init.stderr).toBe('');
    const list = await tresor(['--repo', repo, 'storage', 'list'], env);
    expect(list.stdout).toMatch(/ TIERING\n.* 30d:Cool,90d:Archive\n$/);
    const { backupId } = await backupJson(repo, source, [], env);
    const archive = `archives/${backupId}.tra`;
    const tierOf = async (key: string): Promise<string | undefined> =>
      (await azure.container.getBlobClient(key).getProperties()).accessTier;

    // Nothing is 30 days old yet.
    const now = await tresor(['--repo', repo, 'storage', 'tier'], env);
    expect(now.stdout).toBe('0 archive(s) moved, 0 failed, in 1 location(s)\n');
    const asOf = (days: number): string => new Date(Date.now() + days * day).toISOString();
    const plan = await tresor(['--repo', repo, 'storage', 'tier', '--dry-run', '--as-of', asOf(40)], env);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toBe(
      `would move ${archive} in cloud: Hot -> Cool (40 days old)\n1 archive(s) would move in 1 location(s)\n`,
    );
    expect(await tierOf(archive)).toBe('Hot');

    const moved = await tresor(['--repo', repo, 'storage', 'tier', '--as-of', asOf(100)], env);
    expect(moved.code).toBe(0);
    expect(moved.stdout).toContain(`moved ${archive} in cloud: Hot -> Archive (100 days old)\n`);
    expect(moved.stdout).toMatch(/note: archives in Archive at cloud must be rehydrated/);
    expect(await tierOf(archive)).toBe('Archive');
    expect(await tierOf(`manifests/${backupId}.json`)).toBe('Hot');
    expect(await tierOf('repository.json')).toBe('Hot');
    const again = await tresor(['--repo', repo, '--json', 'storage', 'tier', '--as-of', asOf(100)], env);
    expect(JSON.parse(again.stdout).locations).toEqual([
      { location: 'cloud', actions: [], offline: ['Archive'] },
    ]);

    const cost = await tresor(['--repo', repo, '--json', 'storage', 'cost'], env);
    expect(cost.code).toBe(0);
    const report = JSON.parse(cost.stdout) as {
      lines: { group: string; storageClass: string; bytes: number; monthlyCost: number }[];
      bySource: { name: string; bytes: number; monthlyCost: Record<string, number> }[];
      byLocation: { name: string; bytes: number }[];
      unpriced: string[];
    };
    const sourceName = `filesystem:${source}`;
    const archived = report.lines.find((l) => l.group === sourceName && l.storageClass === 'Archive')!;
    const archiveSize = (await azure.container.getBlobClient(archive).getProperties()).contentLength!;
    expect(archived.bytes).toBe(archiveSize);
    expect(archived.monthlyCost).toBeCloseTo((archiveSize / 1024 ** 3) * 1, 12);
    expect(report.lines.find((l) => l.group === sourceName && l.storageClass === 'Hot')).toBeDefined();
    expect(report.lines.find((l) => l.group === '(repository)')).toBeDefined();
    expect(report.bySource.map((t) => t.name).sort()).toEqual(['(repository)', sourceName]);
    expect(report.byLocation).toEqual([
      expect.objectContaining({ name: 'cloud', bytes: report.lines.reduce((n, l) => n + l.bytes, 0) }),
    ]);
    expect(report.unpriced).toEqual([]);
    const table = await tresor(['--repo', repo, 'storage', 'cost'], env);
    expect(table.stdout).toMatch(/^SOURCE +LOCATION +CLASS +OBJECTS +SIZE +PER GiB-MONTH +PER MONTH\n/);

    const target = join(dir, 'restored');
    const cold = await tresor(['--repo', repo, 'restore', 'latest', '--target', target], env);
    expect(cold.code).toBe(8);
    expect(cold.stderr).toMatch(
      new RegExp(
        `^tresor: object ${archive} is in the Archive storage class of azure://${azure.containerName}/ at \\S+ and cannot be read until it is restored: run \`tresor storage rehydrate ${archive}\` and retry when it has finished\\n$`,
      ),
    );

    const verify = await tresor(['--repo', repo, 'verify', '--all'], env);
    expect(verify.code).toBe(8);
    expect(verify.stderr).toBe(cold.stderr);

    const rehydrate = await tresor(['--repo', repo, 'storage', 'rehydrate', backupId], env);
    expect(rehydrate.code).toBe(0);
    expect(rehydrate.stdout).toMatch(new RegExp(`^requested ${archive} from Archive in cloud;`));
    const restore = await tresor(['--repo', repo, 'restore', 'latest', '--target', target], env);
    expect(restore.code).toBe(0);
    expect(await snapshotTree(target)).toEqual(await snapshotTree(source));
    // A dozen CLI runs; on a loaded 2-core machine each takes seconds.
  }, 300_000);

  it('refuses a lifecycle on local storage and a --location that does not exist', async () => {
    const dir = await tempDir();
    onTestFinished(() => removeDir(dir));
    const repo = join(dir, 'repo');
    const bad = await tresor([
      '--repo',
      repo,
      'init',
      '--storage',
      JSON.stringify({
        name: 'disk',
        type: 'local',
        path: 'objects',
        lifecycle: { tiering: [{ afterDays: 30, class: 'Cool' }] },
      }),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/lifecycle: local storage has no storage classes to move archives to/);
    await tresor(['--repo', repo, 'init', '--kdf', 'scrypt']);
    const none = await tresor(['--repo', repo, 'storage', 'tier']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no storage location has a lifecycle/);
    const wrong = await tresor(['--repo', repo, 'storage', 'cost', '--location', 'nope']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--location nope: no such storage location \(local\)/);
  }, 120_000);
});
