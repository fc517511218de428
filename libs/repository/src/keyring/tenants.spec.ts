import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ConflictError, ForbiddenError, UsageError, WrongKeyError } from '@tresor/errors';
import { FilesystemSource } from '@tresor/source';
import { hsmToken } from '../../../../test/support/infra.js';
import { runBackup } from '../backup/backup.service.js';
import { initRepository } from '../init.js';
import { Repository } from '../repository.js';
import { runRestore } from '../restore/restore.service.js';
import { selectBackup } from '../select.js';
import { KeyService } from './key-service.js';
import { buildSlot } from './slots.js';
import { createShredApproval, listTenants } from './tenants.js';

const PASSPHRASE = 'tenant shred test passphrase';

function custodian(name: string) {
  const pair = generateKeyPairSync('ed25519');
  return {
    name,
    publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

describe('tenants and crypto-shredding', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-tenants-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('after a shred approved by two custodians, the tenant restores no more (unwrap proven to fail) while other tenants and untenanted sources do', async () => {
    const acmeKey = hsmToken();
    const initechKey = hsmToken();
    onTestFinished(() => initechKey.cleanup());
    onTestFinished(() => acmeKey.cleanup());
    const globexKey = hsmToken();
    onTestFinished(() => globexKey.cleanup());
    const sources: Record<string, string> = {};
    for (const name of ['acme', 'globex', 'shared', 'initech']) {
      sources[name] = join(dir, 'src', name);
      await mkdir(sources[name], { recursive: true });
      await writeFile(join(sources[name], 'secret.key'), `${name} secret`);
    }
    const repoDir = join(dir, 'repo');
    await initRepository(repoDir, { kek: { type: 'passphrase', passphrase: PASSPHRASE, kdf: 'pbkdf2-sha256' } });
    const repo = await Repository.open(repoDir, { passphrase: async () => PASSPHRASE, identityPem: async () => '', pkcs11Pin: async () => acmeKey.pin });
    onTestFinished(() => repo.close());
    const keys = KeyService.of(repo);
    onTestFinished(() => keys.close());
    const [carla, colin, mallory] = [custodian('carla'), custodian('colin'), custodian('mallory')];

    // initech had a backup before it became a tenant: that one is wrapped for the repository passphrase.
    const preTenant = (await runBackup(repo, new FilesystemSource(sources.initech!), { level: 'full' })).backupId;

    // A tenant must use keys Tresor can destroy, and two custodians.
    const passSlot = await buildSlot({ type: 'passphrase', passphrase: PASSPHRASE, kdf: 'pbkdf2-sha256' });
    await expect(keys.defineTenant({ name: 'acme', sources: [{ kind: 'filesystem', location: sources.acme! }], slots: [passSlot], custodians: [carla, colin] })).rejects.toThrow(UsageError);
    const hsmSlot = (t: typeof acmeKey) => buildSlot({ type: 'pkcs11', module: t.module, tokenLabel: t.tokenLabel, keyLabel: t.keyLabel, pin: t.pin });
    await expect(keys.defineTenant({ name: 'acme', sources: [{ kind: 'filesystem', location: sources.acme! }], slots: [await hsmSlot(acmeKey)], custodians: [carla] })).rejects.toThrow(/two custodians/);
    await keys.defineTenant({ name: 'acme', sources: [{ kind: 'filesystem', location: sources.acme! }], slots: [await hsmSlot(acmeKey)], custodians: [carla, colin] });
    await keys.defineTenant({ name: 'globex', sources: [{ kind: 'filesystem', location: sources.globex! }], slots: [await hsmSlot(globexKey)], custodians: [carla, colin] });
    await keys.defineTenant({ name: 'initech', sources: [{ kind: 'filesystem', location: sources.initech! }], slots: [await hsmSlot(initechKey)], custodians: [carla, colin] });
    await expect(keys.defineTenant({ name: 'other', sources: [{ kind: 'filesystem', location: sources.acme! }], slots: [await hsmSlot(globexKey)], custodians: [carla, colin] })).rejects.toThrow(ConflictError);

    const backups: Record<string, string> = {};
    for (const name of ['acme', 'globex', 'shared']) backups[name] = (await runBackup(repo, new FilesystemSource(sources[name]!), { level: 'full' })).backupId;
    // The tenant's backup is wrapped for the tenant's HSM key only; rewrap leaves it so.
    expect((await keys.currentWraps(backups.acme!)).map((w) => w.type)).toEqual(['pkcs11-aes-gcm']);
    expect((await keys.currentWraps(backups.shared!)).map((w) => w.type)).toEqual(['passphrase']);
    expect((await keys.rewrap()).skipped).toEqual(expect.arrayContaining([backups.acme, backups.globex]));
    // Destroying the repository's version 1 would strand the pre-tenant backup (not the tenant-wrapped ones).
    expect((await keys.backupsNeeding(1)).sort()).toEqual([backups.shared, preTenant].sort());

    // `keys check` proves the tenants' keys too (monitoring sees a lost HSM key before a restore does).
    const tenantChecks = async () => (await keys.check()).filter((r) => r.tenant).map((r) => [r.tenant, r.ok]);
    expect(await tenantChecks()).toEqual([
      ['acme', true],
      ['globex', true],
      ['initech', true],
    ]);

    const tenant = (await listTenants(repo)).find((t) => t.name === 'acme')!;
    const approve = (c: ReturnType<typeof custodian>, over: { tenant?: string; hours?: number } = {}) => ({
      name: `${c.name}.approval.json`,
      bytes: createShredApproval({ repositoryId: repo.descriptor.repositoryId, tenant: over.tenant ?? 'acme', custodian: c.name, privateKeyPem: c.privateKeyPem, publicKeyPem: c.publicKeyPem, ...(over.hours !== undefined ? { hours: over.hours } : {}) }),
    });
    // Shredding cannot erase a backup that a repository key also opens: refused, naming it, before any key is touched.
    const initechApprovals = [carla, colin].map((c) => ({ name: c.name, bytes: createShredApproval({ repositoryId: repo.descriptor.repositoryId, tenant: 'initech', custodian: c.name, privateKeyPem: c.privateKeyPem, publicKeyPem: c.publicKeyPem }) }));
    await expect(keys.shredTenant('initech', initechApprovals)).rejects.toThrow(new RegExp(`1 backup\\(s\\) of tenant initech are also wrapped for keys outside the tenant .*: ${preTenant};`));
    expect((await keys.check()).find((r) => r.tenant === 'initech')?.ok).toBe(true);
    await expect(keys.shredTenant('acme', [])).rejects.toThrow(/two distinct custodians \(carla, colin\); got 0/);
    await expect(keys.shredTenant('acme', [approve(carla), approve(carla)])).rejects.toThrow(/got 1: carla/);
    await expect(keys.shredTenant('acme', [approve(carla), approve(mallory)])).rejects.toThrow(/mallory is not a custodian of tenant acme/);
    const forged = { name: 'forged.json', bytes: createShredApproval({ repositoryId: repo.descriptor.repositoryId, tenant: 'acme', custodian: 'colin', privateKeyPem: mallory.privateKeyPem, publicKeyPem: mallory.publicKeyPem }) };
    await expect(keys.shredTenant('acme', [approve(carla), forged])).rejects.toThrow(/not signed by the registered key of custodian colin/);
    await expect(keys.shredTenant('acme', [approve(carla), approve(colin, { tenant: 'globex' })])).rejects.toThrow(ForbiddenError);
    await expect(keys.shredTenant('acme', [approve(carla), approve(colin, { hours: -1 })])).rejects.toThrow(/expired/);
    expect(tenant.shredded).toBeUndefined();

    const report = await keys.shredTenant('acme', [approve(carla), approve(colin)]);
    expect(report.approvedBy.sort()).toEqual(['carla', 'colin']);
    expect(report.destroyedKeys).toEqual([tenant.slots[0]!.kekId]);
    expect(report.backups).toEqual([backups.acme]);
    expect(report.proof).toEqual([{ backupId: backups.acme, wraps: 1, error: expect.stringMatching(/has no AES key labelled/) as unknown }]);
    expect(report.keyProof).toHaveLength(1);
    await expect(keys.shredTenant('acme', [approve(carla), approve(colin)])).rejects.toThrow(/already shredded/);
    expect(await tenantChecks()).toEqual([
      ['globex', true],
      ['initech', true],
    ]);

    // A fresh repository object (another host, a replica) cannot restore the tenant either.
    const again = await Repository.open(repoDir, { passphrase: async () => PASSPHRASE, identityPem: async () => '', pkcs11Pin: async () => acmeKey.pin });
    onTestFinished(() => again.close());
    onTestFinished(() => KeyService.of(again).close());
    const restore = (id: string, target: string) => selectBackup(again.catalog, { id }).then((b) => runRestore(again, b, { target: join(dir, target) }));
    const failed = await restore(backups.acme!, 'acme-out').then(() => undefined, (e: unknown) => e as Error);
    expect(failed).toBeInstanceOf(WrongKeyError);
    expect(failed?.message).toMatch(new RegExp(`backup ${backups.acme} belongs to tenant acme, crypto-shredded at .*: its keys were destroyed and it can no longer be decrypted`));
    await restore(backups.globex!, 'globex-out');
    expect(await readFile(join(dir, 'globex-out', 'secret.key'), 'utf8')).toBe('globex secret');
    await restore(backups.shared!, 'shared-out');
    expect(await readFile(join(dir, 'shared-out', 'secret.key'), 'utf8')).toBe('shared secret');
    await expect(runBackup(again, new FilesystemSource(sources.acme!), { level: 'full' })).rejects.toThrow(/crypto-shredded/);
  });
});
