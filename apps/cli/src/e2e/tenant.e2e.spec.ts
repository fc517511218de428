import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { hsmToken } from '../../../../test/support/infra.js';
import { removeDir, tempDir, tresor } from './support.js';

function ok(result: { code: number; stderr: string }): void {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

// Each test runs a dozen CLI processes: on a shared 2-core machine that takes minutes, not seconds.
describe('tresor tenant shred', { timeout: 300_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('tresor-tenant-e2e-');
  });
  afterAll(() => removeDir(dir));

  it('needs two custodian approvals and the name confirmed; afterwards the tenant restores no more while another tenant does', async () => {
    const acme = hsmToken();
    onTestFinished(() => acme.cleanup());
    const globex = hsmToken();
    onTestFinished(() => globex.cleanup());
    const env = { TRESOR_PKCS11_PIN: acme.pin };
    const repo = join(dir, 'repo');
    ok(await tresor(['init', '--repo', repo, '--kdf', 'scrypt']));
    const keysOf: Record<string, string> = {};
    for (const name of ['carla', 'colin']) {
      const pair = generateKeyPairSync('ed25519');
      keysOf[name] = join(dir, `${name}.pem`);
      await writeFile(keysOf[name], pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      await writeFile(join(dir, `${name}.pub.pem`), pair.publicKey.export({ type: 'spki', format: 'pem' }));
    }
    const custodians = ['--custodian', `carla=${join(dir, 'carla.pub.pem')}`, '--custodian', `colin=${join(dir, 'colin.pub.pem')}`];
    const backupIds: Record<string, string> = {};
    for (const [name, hsm] of [['acme', acme], ['globex', globex]] as const) {
      const source = join(dir, 'src', name);
      await mkdir(source, { recursive: true });
      await writeFile(join(source, 'tenant.key'), `${name} key`);
      ok(await tresor(['--repo', repo, 'tenant', 'add', name, '--source', source, ...custodians, '--pkcs11-module', hsm.module, '--pkcs11-token', hsm.tokenLabel, '--pkcs11-key-label', hsm.keyLabel], env));
      const backup = await tresor(['--repo', repo, '--json', 'backup', source], env);
      ok(backup);
      backupIds[name] = (JSON.parse(backup.stdout) as { backupId: string }).backupId;
    }
    const list = await tresor(['--repo', repo, '--json', 'tenant', 'list']);
    expect((JSON.parse(list.stdout) as { name: string; custodians: string[] }[]).map((t) => [t.name, t.custodians])).toEqual([
      ['acme', ['carla', 'colin']],
      ['globex', ['carla', 'colin']],
    ]);

    const approvals: string[] = [];
    for (const name of ['carla', 'colin']) {
      const file = join(dir, `${name}.approval.json`);
      ok(await tresor(['--repo', repo, 'tenant', 'approve-shred', 'acme', '--custodian', name, '--key', keysOf[name]!, '--output', file]));
      approvals.push('--approval', file);
    }
    const unconfirmed = await tresor(['--repo', repo, 'tenant', 'shred', 'acme', '--confirm', 'globex', ...approvals], env);
    expect(unconfirmed.code).toBe(2);
    const single = await tresor(['--repo', repo, 'tenant', 'shred', 'acme', '--confirm', 'acme', ...approvals.slice(0, 2)], env);
    expect(single.code).toBe(10);
    expect(single.stderr).toMatch(/needs the approvals of two distinct custodians \(carla, colin\); got 1: carla/);

    const shred = await tresor(['--repo', repo, 'tenant', 'shred', 'acme', '--confirm', 'acme', ...approvals], env);
    ok(shred);
    expect(shred.stdout).toMatch(/^tenant acme shredded \(approved by carla and colin\); keys destroyed: pkcs11:[0-9a-f]+\n/);
    expect(shred.stdout).toContain(`  ${backupIds.acme}: unwrap of 1 wrap(s) fails: PKCS#11 token '${acme.tokenLabel}' has no AES key labelled '${acme.keyLabel}'`);

    const failed = await tresor(['--repo', repo, 'restore', backupIds.acme!, '--target', join(dir, 'acme-out')], env);
    expect(failed.code).toBe(4);
    expect(failed.stderr).toMatch(new RegExp(`backup ${backupIds.acme} belongs to tenant acme, crypto-shredded at \\S+: its keys were destroyed and it can no longer be decrypted`));
    ok(await tresor(['--repo', repo, 'restore', backupIds.globex!, '--target', join(dir, 'globex-out')], env));
    expect(await readFile(join(dir, 'globex-out', 'tenant.key'), 'utf8')).toBe('globex key');

    const audit = (await readFile(join(repo, 'audit', 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string; details: { phase?: string; approvedBy?: string[] } });
    const shreds = audit.filter((a) => a.action === 'tenant.shred' && a.details.phase === 'finished');
    expect(shreds.map((a) => a.outcome)).toEqual(['failure', 'failure', 'success']);
    expect(shreds.at(-1)?.details.approvedBy?.sort()).toEqual(['carla', 'colin']);
    expect(audit.filter((a) => a.action === 'tenant.approve-shred' && a.details.phase === 'finished')).toHaveLength(2);
    ok(await tresor(['--repo', repo, 'audit', 'verify']));
  });
});
