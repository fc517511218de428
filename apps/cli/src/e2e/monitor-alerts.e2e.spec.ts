import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '@tresor/alerting';
import { alertQuery, parseSince } from '../commands/monitor.command.js';
import { removeDir, tempDir, tresor } from './support.js';

// Loaded the way the CLI loads it (on demand): a static import here would break the lazy-load boundary.
const { AlertManager, SqliteAlertHistory } = await import('@tresor/alerting');

const NOW = Date.parse('2026-11-26T09:00:00Z');

describe('tresor monitor alerts', () => {
  let repo: string;
  beforeAll(async () => {
    repo = await tempDir();
    // The history as a manager writes it: a resolved CRITICAL three days ago, a firing WARNING today.
    const history = await SqliteAlertHistory.open(join(repo, 'alerts.db'));
    let now = NOW - 3 * 86_400_000;
    const manager = new AlertManager({ groupWindowMs: 0, renotifyIntervalMs: 3_600_000, routes: [], channels: [], history, clock: () => now });
    const failed = { rule: 'backup-failed', level: 'CRITICAL' as const, source: '/etc/keys', summary: 'backup of /etc/keys failed' };
    await manager.raise(failed);
    await manager.tick();
    now += 3_600_000;
    await manager.resolve(failed);
    await manager.tick();
    now = NOW - 3_600_000;
    await manager.raise({ rule: 'verify-failed', level: 'WARNING', key: 'b1', summary: 'verify of b1 failed' });
    await manager.tick();
    await history.close();
  });
  afterAll(async () => removeDir(repo));

  it('lists the history as a table, newest first, without a passphrase', async () => {
    const r = await tresor(['--repo', repo, 'monitor', 'alerts'], { TRESOR_PASSPHRASE: undefined });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATE\s+LEVEL\s+RULE\s+SOURCE\s+RAISED\s+RESOLVED\s+SUMMARY$/);
    expect(lines[1]).toMatch(/firing\s+WARNING\s+verify-failed\s+-\s+2026-11-26T08:00:00Z\s+-\s+verify of b1 failed$/);
    expect(lines[2]).toMatch(/resolved\s+CRITICAL\s+backup-failed\s+\/etc\/keys\s+2026-11-23T09:00:00Z\s+2026-11-23T10:00:00Z/);
  });

  it('filters by level and time, as JSON', async () => {
    const r = await tresor(['--repo', repo, 'monitor', 'alerts', '--json', '--level', 'critical,warning', '--since', '2026-11-24T00:00:00Z']);
    expect(r.code).toBe(0);
    const alerts = JSON.parse(r.stdout) as Alert[];
    expect(alerts.map((a) => [a.rule, a.level, a.state])).toEqual([['verify-failed', 'WARNING', 'firing']]);
    const critical = JSON.parse((await tresor(['--repo', repo, 'monitor', 'alerts', '--json', '--level', 'CRITICAL'])).stdout) as Alert[];
    expect(critical).toMatchObject([{ rule: 'backup-failed', state: 'resolved', notifications: 2, source: '/etc/keys' }]);
  });

  it('says so when there are no alerts, and does not create a history', async () => {
    const empty = await tempDir();
    try {
      const r = await tresor(['--repo', empty, 'monitor', 'alerts']);
      expect([r.code, r.stdout]).toEqual([0, 'no alerts\n']);
      expect(existsSync(join(empty, 'alerts.db'))).toBe(false);
    } finally {
      await removeDir(empty);
    }
  });

  it('refuses bad options with exit code 2 and one line', async () => {
    const r = await tresor(['--repo', repo, 'monitor', 'alerts', '--level', 'FATAL']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("tresor: --level 'FATAL': expected INFO, WARNING or CRITICAL (comma-separated)\n");
    expect((await tresor(['--repo', repo, 'monitor', 'alerts', '--since', 'yesterday'])).code).toBe(2);
    // --server reads the cluster's history through the gateway: none listening there is an I/O error (8).
    const remote = await tresor(['--server', 'http://127.0.0.1:1', 'monitor', 'alerts']);
    expect(remote.code).toBe(8);
    expect(remote.stderr).toMatch(/^tresor: cannot reach the Tresor gateway at http:\/\/127\.0\.0\.1:1: /);
  });

  it('reads --since as an ISO time or an age before now', () => {
    expect(parseSince('24h', NOW).toISOString()).toBe('2026-11-25T09:00:00.000Z');
    expect(parseSince('2w', NOW).toISOString()).toBe('2026-11-12T09:00:00.000Z');
    expect(parseSince('2026-11-20', NOW).toISOString()).toBe('2026-11-20T00:00:00.000Z');
    expect(alertQuery({ level: 'info', state: 'firing', limit: '5' }, NOW)).toEqual({ levels: ['INFO'], state: 'firing', limit: 5 });
  });
});
