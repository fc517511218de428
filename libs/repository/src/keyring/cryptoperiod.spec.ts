import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initRepository } from '../init.js';
import { Repository } from '../repository.js';
import { checkKekCryptoperiods, cryptoperiodStatus, cryptoperiodWarnings, DEFAULT_CRYPTOPERIOD_DAYS } from './cryptoperiod.js';
import type { KekVersion } from './kek-versions.js';
import { KeyService } from './key-service.js';
import { buildSlot } from './slots.js';

const PASSPHRASE = 'cryptoperiod test passphrase';
const DAY = 24 * 60 * 60 * 1000;
const created = '2026-01-01T00:00:00.000Z';
const version = (over: Partial<KekVersion> = {}): KekVersion => ({
  formatVersion: 1,
  repositoryId: 'r',
  version: 1,
  createdAt: created,
  slots: [{ type: 'rsa-oaep-sha256', kekId: 'k', publicKeyPem: '' }],
  state: 'active',
  ...over,
});
const at = (days: number) => new Date(Date.parse(created) + days * DAY);

describe('KEK cryptoperiods', () => {
  it('defaults to one year and reports ok, due within the warning window, and overdue past it', () => {
    expect(DEFAULT_CRYPTOPERIOD_DAYS).toBe(365);
    expect(cryptoperiodStatus(version(), at(10))).toMatchObject({ ageDays: 10, cryptoperiodDays: 365, defaulted: true, status: 'ok', daysLeft: 355 });
    expect(cryptoperiodStatus(version(), at(340))).toMatchObject({ status: 'due', daysLeft: 25 });
    expect(cryptoperiodStatus(version(), at(340), 20)).toMatchObject({ status: 'ok' });
    expect(cryptoperiodStatus(version(), at(366))).toMatchObject({ status: 'overdue', daysLeft: -1, rotateBy: at(365).toISOString() });
    expect(cryptoperiodStatus(version({ cryptoperiodDays: 90 }), at(91))).toMatchObject({ status: 'overdue', defaulted: false, cryptoperiodDays: 90 });
    // A disabled version wraps nothing new: its cryptoperiod no longer calls for a rotation.
    expect(cryptoperiodStatus(version({ state: 'disabled' }), at(900)).status).toBe('inactive');
  });

  it('words a warning per due or overdue version only', () => {
    const lines = cryptoperiodWarnings([
      cryptoperiodStatus(version({ version: 1 }), at(400)),
      cryptoperiodStatus(version({ version: 2 }), at(350)),
      cryptoperiodStatus(version({ version: 3 }), at(10)),
    ]);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^KEK version 1 is past its cryptoperiod of 365 days .* 35 day\(s\) ago/);
    expect(lines[1]).toMatch(/^KEK version 2 reaches the end of its cryptoperiod of 365 days in 15 day\(s\)/);
  });

  describe('on a repository', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tresor-cryptoperiod-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('records the cryptoperiod of a rotated version (the default when none is given) and checks every version', async () => {
      const repoDir = join(dir, 'repo');
      await initRepository(repoDir, { kek: { type: 'passphrase', passphrase: PASSPHRASE, kdf: 'pbkdf2-sha256' } });
      const repo = await Repository.open(repoDir, { passphrase: async () => PASSPHRASE, identityPem: async () => '' });
      try {
        const keys = KeyService.of(repo);
        const slot = await buildSlot({ type: 'passphrase', passphrase: PASSPHRASE, kdf: 'pbkdf2-sha256' });
        const v2 = await keys.rotate([slot]);
        expect(v2.cryptoperiodDays).toBe(DEFAULT_CRYPTOPERIOD_DAYS);
        const v3 = await keys.rotate([slot], 30);
        const now = new Date(Date.parse(v3.createdAt) + 20 * DAY);
        const statuses = await checkKekCryptoperiods(repo, { now, warnDays: 14 });
        expect(statuses.map((s) => [s.version, s.status])).toEqual([
          [1, 'ok'],
          [2, 'ok'],
          [3, 'due'],
        ]);
        expect((await checkKekCryptoperiods(repo, { now: new Date(now.getTime() + 11 * DAY) })).find((s) => s.version === 3)?.status).toBe('overdue');
        await keys.close();
      } finally {
        await repo.close();
      }
    });
  });
});
