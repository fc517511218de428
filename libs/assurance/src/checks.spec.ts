import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BackupRecord, Catalog } from '@tresor/catalog';
import { openLocation, parseStorageLocation } from '@tresor/storage';
import { checkCryptoperiods, checkFreshness, checkLastVerify, probeStorage, worstStatus } from './checks.js';
import { parseMonitorConfig } from './config.js';
import { pickBackup } from './drill.js';
import type { DrillRecord } from './results.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-26T10:00:00Z');

describe('checkCryptoperiods', () => {
  it('is ok inside the period, WARNING within the warning window, CRITICAL past it, and skips inactive versions', () => {
    const at = (daysAgo: number) => new Date(NOW - daysAgo * DAY).toISOString();
    const results = checkCryptoperiods(
      [
        { version: 1, state: 'active', createdAt: at(10), cryptoperiodDays: 365 },
        { version: 2, state: 'active', createdAt: at(350) },
        { version: 3, state: 'active', createdAt: at(100), cryptoperiodDays: 90 },
        { version: 4, state: 'disabled', createdAt: at(1000) },
      ],
      30,
      NOW,
    );
    expect(results.map((r) => [r.target, r.status])).toEqual([
      ['v1', 'ok'],
      ['v2', 'warning'],
      ['v3', 'critical'],
    ]);
    expect(results[1]!.details).toMatchObject({ cryptoperiodDays: 365, daysLeft: 15 });
    expect(worstStatus(results)).toBe('critical');
  });
});

describe('probeStorage', () => {
  it('writes, reads back and deletes its probe object, judges usage, and is CRITICAL when the store fails or does not answer in time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tresor-probe-'));
    try {
      const config = parseMonitorConfig({ storage: { warningPercent: 50, criticalPercent: 95 } });
      const open = () => openLocation(parseStorageLocation({ name: 'local', type: 'local', path: dir }));
      const ok = await probeStorage('local', open, config, { usage: async () => ({ usedPercent: 60, freeBytes: 1000 }) });
      expect(ok).toMatchObject({ check: 'storage', target: 'local', status: 'warning', details: { usedPercent: 60, freeBytes: 1000 } });
      expect(ok.summary).toMatch(/^storage location local: 60 % used \(warning at 50 %, critical at 95 %\), \d+ ms$/);
      expect((await readdir(dir, { recursive: true })).filter((f) => f.includes('probe-'))).toEqual([]);

      const refused = await probeStorage('gw', () => Promise.reject(new Error('no responders')), config);
      expect(refused).toMatchObject({ status: 'critical', summary: 'storage location gw is not reachable or not writable: no responders' });
      const hanging = await probeStorage('gw', () => new Promise(() => undefined), config, { timeoutMs: 50 });
      expect(hanging).toMatchObject({ status: 'critical', summary: 'storage location gw is not reachable or not writable: the probe did not finish within 50 ms' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('checkLastVerify', () => {
  it('judges each source by its newest drill', () => {
    const drill = (source: string, finishedAt: string, ok: boolean): DrillRecord => ({ id: `${source}-${finishedAt}`, source, backupId: 'b', pick: 'latest', startedAt: finishedAt, finishedAt, rtoSeconds: 1, ok, files: 1, bytes: 1, entriesVerified: ok ? 1 : 0, ...(ok ? {} : { problem: 'bad frame' }) });
    const results = checkLastVerify([drill('/a', '2026-11-01', false), drill('/a', '2026-11-02', true), drill('/b', '2026-11-02', true), drill('/b', '2026-11-03', false)]);
    expect(results.map((r) => [r.target, r.status])).toEqual([
      ['/a', 'ok'],
      ['/b', 'critical'],
    ]);
    expect(results[1]!.summary).toMatch(/bad frame/);
  });
});

describe('pickBackup', () => {
  const backup = (id: string, daysAgo: number) => ({ id, createdAt: new Date(NOW - daysAgo * DAY).toISOString() }) as BackupRecord;
  const backups = [backup('old', 30), backup('mid', 5), backup('new', 1), backup('recent', 3)];
  it('takes the latest by default', () => {
    expect(pickBackup(backups, {}, NOW)).toMatchObject({ backup: { id: 'new' }, pick: 'latest' });
  });
  it('takes a random backup within the window, and the latest when none is in it', () => {
    expect(pickBackup(backups, { randomWithinDays: 7, random: () => 0 }, NOW)).toMatchObject({ backup: { id: 'new' }, pick: 'random' });
    expect(pickBackup(backups, { randomWithinDays: 7, random: () => 0.99 }, NOW)).toMatchObject({ backup: { id: 'mid' }, pick: 'random' });
    expect(pickBackup([backup('old', 30)], { randomWithinDays: 7 }, NOW)).toMatchObject({ backup: { id: 'old' }, pick: 'latest' });
    expect(pickBackup([], {}, NOW)).toBeUndefined();
  });
});

describe('checkFreshness', () => {
  const iso = (hoursAgo: number) => new Date(NOW - hoursAgo * 3_600_000).toISOString();
  // Only what the check reads of the catalog port.
  const catalog = {
    listSources: async () => [
      { id: 's1', kind: 'filesystem', location: '/fresh', createdAt: iso(1000) },
      { id: 's2', kind: 'filesystem', location: '/stale', createdAt: iso(1000) },
      { id: 's3', kind: 'filesystem', location: '/dead', createdAt: iso(1000) },
      { id: 's4', kind: 'filesystem', location: '/new', createdAt: iso(1) },
      { id: 's5', kind: 'filesystem', location: '/never', createdAt: iso(30) },
      { id: 's6', kind: 'filesystem', location: '/tight', createdAt: iso(1000) },
    ],
    listBackups: async ({ sourceId }: { sourceId: string }) =>
      ({ s1: [iso(50), iso(2)], s2: [iso(30)], s3: [iso(60)], s6: [iso(7)] })[sourceId as 's1']?.map((completedAt, i) => ({ id: `${sourceId}-${i}`, completedAt })) ?? [],
  } as unknown as Catalog;

  it('judges the newest success against the RPO (default 26 h, per source override), CRITICAL past twice it', async () => {
    const config = parseMonitorConfig({ sources: { '/tight': { rpoHours: 6 } } });
    const results = await checkFreshness(catalog, config, NOW);
    expect(results.map((r) => [r.target, r.status])).toEqual([
      ['/fresh', 'ok'],
      ['/stale', 'warning'],
      ['/dead', 'critical'],
      ['/new', 'ok'],
      ['/never', 'warning'],
      ['/tight', 'warning'],
    ]);
    expect(results[1]!.details).toMatchObject({ ageSeconds: 30 * 3600, rpoSeconds: 26 * 3600 });
    expect(results[4]!.summary).toMatch(/has no successful backup \(first seen 30\.0 h ago/);
  });
});
