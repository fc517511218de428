import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ConflictError, UsageError } from '@tresor/errors';
import { FilesystemSource } from '@tresor/source';
import { hsmToken, kmsKey } from '../../../../test/support/infra.js';
import { runBackup } from '../backup/backup.service.js';
import { initRepository } from '../init.js';
import type { KeySupplier } from '../keys.js';
import { Repository } from '../repository.js';
import { runRestore } from '../restore/restore.service.js';
import { selectBackup } from '../select.js';
import { verifyBackup } from '../verify/verify.service.js';
import { KeyService } from './key-service.js';
import { buildSlot } from './slots.js';

const PASSPHRASE = 'key service test passphrase';

interface Secrets {
  passphrase?: string;
  identityPem?: string;
  pin?: string;
}

function supplier(s: Secrets): KeySupplier {
  return {
    passphrase: async () => {
      if (s.passphrase === undefined) throw new UsageError('no passphrase in this test');
      return s.passphrase;
    },
    identityPem: async () => {
      if (s.identityPem === undefined) throw new UsageError('no identity in this test');
      return s.identityPem;
    },
    pkcs11Pin: async () => {
      if (s.pin === undefined) throw new UsageError('no PIN in this test');
      return s.pin;
    },
  };
}

const pem = (pair: { publicKey: { export(o: object): string | Buffer }; privateKey: { export(o: object): string | Buffer } }) => ({
  publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string,
  privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
});

async function archiveHashes(repoDir: string): Promise<Map<string, string>> {
  const { readdir } = await import('node:fs/promises');
  const dir = join(repoDir, 'objects', 'archives');
  const result = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    result.set(name, createHash('sha256').update(await readFile(join(dir, name))).digest('hex'));
  }
  return result;
}

describe('key slots, rotation and rewrap', () => {
  let dir: string;
  let source: string;
  const rsa = pem(generateKeyPairSync('rsa', { modulusLength: 3072 }));
  const x25519 = pem(generateKeyPairSync('x25519'));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-keys-'));
    source = join(dir, 'keys');
    await mkdir(join(source, 'app'), { recursive: true });
    await writeFile(join(source, 'app', 'a.key'), 'alpha secret');
    await writeFile(join(source, 'app', 'b.key'), 'bravo secret');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function restoreWith(repoDir: string, secrets: Secrets, name: string): Promise<string> {
    const repo = await Repository.open(repoDir, supplier(secrets));
    try {
      const target = join(dir, name);
      await runRestore(repo, await selectBackup(repo.catalog, { id: 'latest' }), { target });
      return readFile(join(target, 'app', 'a.key'), 'utf8');
    } finally {
      await KeyService.of(repo).close();
      await repo.close();
    }
  }

  it('a backup wrapped for passphrase + RSA + X25519 + HSM + KMS restores with any one of them alone', async () => {
    const hsm = hsmToken();
    onTestFinished(() => hsm.cleanup());
    const kms = await kmsKey();
    onTestFinished(() => kms.cleanup());
    process.env.AWS_ACCESS_KEY_ID = kms.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = kms.credentials.secretAccessKey;
    const repoDir = join(dir, 'slots');
    await initRepository(repoDir, {
      kek: {
        type: 'slots',
        slots: [
          { type: 'passphrase', passphrase: PASSPHRASE, kdf: 'pbkdf2-sha256' },
          { type: 'public-key', publicKeyPem: rsa.publicPem },
          { type: 'public-key', publicKeyPem: x25519.publicPem },
          { type: 'pkcs11', module: hsm.module, tokenLabel: hsm.tokenLabel, keyLabel: hsm.keyLabel, pin: hsm.pin },
          { type: 'aws-kms', keyId: kms.keyArn, region: kms.region, endpoint: kms.endpoint },
        ],
      },
    });
    const repo = await Repository.open(repoDir, supplier({ passphrase: PASSPHRASE, pin: hsm.pin }));
    try {
      const result = await runBackup(repo, new FilesystemSource(source), { level: 'full' });
      expect(result.files).toBe(2);
      const wraps = await KeyService.of(repo).currentWraps(result.backupId);
      expect(wraps.map((w) => w.type)).toEqual(['passphrase', 'rsa-oaep-sha256', 'x25519', 'pkcs11-aes-gcm', 'aws-kms']);
    } finally {
      await KeyService.of(repo).close();
      await repo.close();
    }

    // Without AWS credentials KMS cannot help; the others must each suffice.
    const savedKey = process.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_ACCESS_KEY_ID = 'wrong';
    try {
      expect(await restoreWith(repoDir, { passphrase: PASSPHRASE }, 'by-passphrase')).toBe('alpha secret');
      expect(await restoreWith(repoDir, { identityPem: rsa.privatePem }, 'by-rsa')).toBe('alpha secret');
      expect(await restoreWith(repoDir, { identityPem: x25519.privatePem }, 'by-x25519')).toBe('alpha secret');
      expect(await restoreWith(repoDir, { pin: hsm.pin }, 'by-hsm')).toBe('alpha secret');
    } finally {
      process.env.AWS_ACCESS_KEY_ID = savedKey;
    }
    // local-kms does not check credentials, so this one is KMS alone.
    expect(await restoreWith(repoDir, {}, 'by-kms')).toBe('alpha secret');
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
  });

  it('after rotate + rewrap every old backup restores with only the new KEK; archives are byte-identical', async () => {
    const repoDir = join(dir, 'rotate');
    await initRepository(repoDir, { kek: { type: 'passphrase', passphrase: PASSPHRASE, kdf: 'scrypt' } });
    const old = await Repository.open(repoDir, supplier({ passphrase: PASSPHRASE }));
    try {
      await runBackup(old, new FilesystemSource(source), { level: 'full' });
      await writeFile(join(source, 'app', 'c.key'), 'charlie');
      await runBackup(old, new FilesystemSource(source), { level: 'incremental' });
    } finally {
      await old.close();
    }
    const before = await archiveHashes(repoDir);
    expect(before.size).toBe(2);

    const x = pem(generateKeyPairSync('x25519'));
    const repo = await Repository.open(repoDir, supplier({ passphrase: PASSPHRASE }));
    try {
      const keys = KeyService.of(repo);
      const v2 = await keys.rotate([await buildSlot({ type: 'public-key', publicKeyPem: x.publicPem })], 90);
      expect(v2.version).toBe(2);
      // The old version cannot be destroyed while backups need it; the refusal names them.
      await keys.disable(1);
      const refused = (await keys.destroy(1).catch((e: unknown) => e)) as Error;
      expect(refused).toBeInstanceOf(ConflictError);
      for (const b of await repo.catalog.listBackups()) expect(refused.message).toContain(b.id);

      const report = await keys.rewrap({ fromVersion: 1 });
      expect(report.rewrapped).toHaveLength(2);
      expect((await keys.rewrap()).rewrapped).toHaveLength(0);
      expect(await keys.backupsNeeding(1)).toEqual([]);
      await keys.destroy(1);
      expect((await keys.listVersions()).map((v) => [v.version, v.state])).toEqual([
        [1, 'destroyed'],
        [2, 'active'],
      ]);
    } finally {
      await repo.close();
    }
    expect(await archiveHashes(repoDir)).toEqual(before);

    // Only the new KEK (the X25519 identity), no passphrase: every backup restores and verifies deep.
    const fresh = await Repository.open(repoDir, supplier({ identityPem: x.privatePem }));
    try {
      for (const backup of await fresh.catalog.listBackups()) {
        const target = join(dir, `rotated-${backup.id}`);
        const restored = await runRestore(fresh, backup, { target });
        expect(restored.files).toBeGreaterThanOrEqual(2);
        expect((await verifyBackup(fresh, backup, { deep: true })).ok).toBe(true);
      }
      // New backups are wrapped for version 2 only: the old passphrase cannot open them.
      const next = await runBackup(fresh, new FilesystemSource(source), { level: 'full' });
      expect((await KeyService.of(fresh).currentWraps(next.backupId)).map((w) => w.type)).toEqual(['x25519']);
    } finally {
      await fresh.close();
    }
    const byOldPassphrase = await Repository.open(repoDir, supplier({ passphrase: PASSPHRASE }));
    try {
      const latest = await selectBackup(byOldPassphrase.catalog, { id: 'latest' });
      // Its only slot is the X25519 key: the old passphrase is not even asked for.
      await expect(runRestore(byOldPassphrase, latest, { target: join(dir, 'old-pass') })).rejects.toThrow(/no identity/);
    } finally {
      await byOldPassphrase.close();
    }
  });

  it('rejects a keyring that was tampered with in storage', async () => {
    const repoDir = join(dir, 'tamper');
    await initRepository(repoDir, { kek: { type: 'passphrase', passphrase: PASSPHRASE, kdf: 'scrypt' } });
    const x = pem(generateKeyPairSync('x25519'));
    const repo = await Repository.open(repoDir, supplier({ passphrase: PASSPHRASE }));
    let backupId: string;
    try {
      backupId = (await runBackup(repo, new FilesystemSource(source), { level: 'full' })).backupId;
      await KeyService.of(repo).rotate([await buildSlot({ type: 'public-key', publicKeyPem: x.publicPem })]);
      await KeyService.of(repo).rewrap();
    } finally {
      await repo.close();
    }
    const ring = join(repoDir, 'objects', 'keyrings', backupId, '00000001.json');
    const text = await readFile(ring, 'utf8');
    await rm(ring);
    await writeFile(ring, text.replace('"kekVersion":2', '"kekVersion":3'));
    const again = await Repository.open(repoDir, supplier({ identityPem: x.privatePem }));
    try {
      const backup = await selectBackup(again.catalog, { id: backupId });
      await expect(runRestore(again, backup, { target: join(dir, 'tampered') })).rejects.toThrow(/no valid signature/);
    } finally {
      await again.close();
    }
  });
});
