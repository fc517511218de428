import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeysOverviewRecord } from '@tresor/contracts';
import { PASSPHRASE, TestCluster } from './cluster.js';

/** Issue 12's API for the console's Schedules and Keys screens: retention preview and key status. */
describe('cluster ops API (retention preview, keys)', () => {
  let cluster: TestCluster;
  let server: string;
  let src: string;
  const ids: string[] = [];
  beforeAll(async () => {
    cluster = await TestCluster.create();
    // KEK version 2 with a 10-day cryptoperiod, and a recovery key split between two custodians: a due warning and share holders to show.
    const rotate = await cluster.cli(['--repo', cluster.repo, 'keys', 'rotate', '--new-passphrase-env', 'NEW_PASS', '--cryptoperiod-days', '10'], { NEW_PASS: PASSPHRASE });
    expect(rotate.code, rotate.stderr).toBe(0);
    await cluster.start('storage-gateway');
    await Promise.all([cluster.start('backup-engine'), cluster.start('monitoring')]);
    server = (await cluster.start('gateway')).http;
    src = join(cluster.dir, 'vault');
    await mkdir(src, { recursive: true });
    // Three full backups (no chains: each stands alone), the oldest tagged for release.
    for (const [i, tags] of [[0, ['--tag', 'release']], [1, []], [2, []]] as const) {
      await writeFile(join(src, 'a.key'), `key-${i}-`.repeat(50), { mode: 0o600 });
      const r = await cluster.cli(['--server', server, 'backup', src, '--level', 'full', ...tags, '--json']);
      expect(r.stderr).toBe('');
      ids.push((JSON.parse(r.stdout) as { backupId: string }).backupId);
    }
  }, 240_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const call = async (method: string, path: string, body?: unknown, token = cluster.token!) => {
    const r = await fetch(`${server}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: r.status, text: await r.text() };
  };
  const preview = (body: unknown, token?: string) => call('POST', '/v1/retention/preview', body, token);

  it('previews which backups a policy keeps, by which rule, and which it removes, removing nothing', async () => {
    const r = await preview({ source: src, policy: { keepLast: 1, keepTags: ['release'] } });
    expect(r.status, r.text).toBe(200);
    const body = JSON.parse(r.text) as { keep: { id: string; reasons: string[] }[]; remove: { id: string; reasons: string[] }[] };
    expect(body.keep.map((b) => [b.id, b.reasons])).toEqual([
      [ids[2], ['keep-last 1']],
      [ids[0], ['keep-tag release']],
    ]);
    expect(body.remove.map((b) => [b.id, b.reasons])).toEqual([[ids[1], ['no rule keeps it']]]);
    // The same rules as `tresor forget`: a cap on what the rules keep.
    const capped = JSON.parse((await preview({ source: src, policy: { keepLast: 3, maxBackups: 2 } })).text) as typeof body;
    expect(capped.keep.map((b) => b.id)).toEqual([ids[2], ids[1]]);
    expect(capped.remove[0]!.reasons).toEqual(['beyond max_backups 2 (kept by keep-last 3)']);
    // Nothing was removed.
    const listed = JSON.parse((await call('GET', `/v1/backups?source=${encodeURIComponent(src)}`)).text) as { backups: { id: string }[] };
    expect(listed.backups.map((b) => b.id).sort()).toEqual([...ids].sort());
  }, 60_000);

  it('refuses a bad policy with a one-line 400 naming the field, and an unknown source with a 404', async () => {
    const cases: [unknown, RegExp][] = [
      [{ source: src, policy: { keepLast: -1 } }, /^POST \/v1\/retention\/preview: policy\.keepLast: /],
      [{ source: src, policy: { keepDayly: 3 } }, /^POST \/v1\/retention\/preview: policy: .*keepDayly/],
      [{ source: src, policy: {} }, /^POST \/v1\/retention\/preview: policy has no rule, so nothing would be kept/],
      [{ source: src, policy: { keepWithin: '30 days' } }, /keep-within/],
      [{ source: src, policy: { keepDaily: 7, timeZone: 'Mars/Olympus' } }, /time zone 'Mars\/Olympus' is not an IANA time zone/],
      [{ policy: { keepLast: 1 } }, /^POST \/v1\/retention\/preview: source: /],
    ];
    for (const [body, message] of cases) {
      const r = await preview(body);
      expect(r.status, r.text).toBe(400);
      const error = (JSON.parse(r.text) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('USAGE');
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('\n');
    }
    const unknown = await preview({ source: join(cluster.dir, 'nowhere'), policy: { keepLast: 1 } });
    expect(unknown.status).toBe(404);
  }, 60_000);

  it('lists KEK versions with their age against the cryptoperiod and their providers, and never key material', async () => {
    const r = await call('GET', '/v1/keys');
    expect(r.status, r.text).toBe(200);
    const { keys } = JSON.parse(r.text) as { keys: KeysOverviewRecord };
    expect(keys.versions.map((v) => [v.version, v.state, v.cryptoperiodDays, v.defaulted, v.status])).toEqual([
      [1, 'active', 365, true, 'ok'],
      [2, 'active', 10, false, 'due'],
    ]);
    expect(keys.versions[1]!.daysLeft).toBeLessThanOrEqual(10);
    expect(keys.versions.flatMap((v) => v.slots.map((s) => s.type))).toEqual(['passphrase', 'passphrase']);
    expect(keys.providers).toEqual([{ type: 'passphrase', versions: [1, 2] }]);
    expect(keys.warnings).toEqual([expect.stringMatching(/^KEK version 2 reaches the end of its cryptoperiod of 10 days/)]);

    // Canaries: the passphrase, and every value of the stored KEK objects that is not a plain label (check wraps, salts, keys, signatures).
    const canaries = [PASSPHRASE];
    const kekDir = join(cluster.repo, 'objects', 'kek');
    for (const f of await readdir(kekDir)) {
      const walk = (v: unknown, key = ''): void => {
        if (typeof v === 'string' && v.length >= 16 && !['createdAt', 'repositoryId', 'kekId', 'type'].includes(key)) canaries.push(v);
        else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
      };
      walk(JSON.parse(await readFile(join(kekDir, f), 'utf8')));
    }
    expect(canaries.length).toBeGreaterThan(3);
    for (const c of canaries) expect(r.text).not.toContain(c);
  }, 60_000);

  it('replaces a schedule with PUT: same id and history, new timing; a bad cron is a one-line 400 and the schedule stays', async () => {
    const body = (cron: string) => ({ kind: 'cron', cron, timezone: 'Europe/Berlin', backup: { source: { kind: 'filesystem', location: src } } });
    const created = JSON.parse((await call('POST', '/v1/schedules', body('0 3 * * *'))).text) as { schedule: { id: string; createdAt: string; version: number } };
    const id = created.schedule.id;
    const put = await call('PUT', `/v1/schedules/${id}`, { ...body('30 4 * * 1-5'), paused: true, backup: { source: { kind: 'filesystem', location: src }, level: 'full', tags: ['nightly'] } });
    expect(put.status, put.text).toBe(200);
    const replaced = (JSON.parse(put.text) as { schedule: { id: string; cron: string; paused: boolean; createdAt: string; version: number; backup: { level: string; tags: string[] } } }).schedule;
    expect(replaced).toMatchObject({ id, cron: '30 4 * * 1-5', paused: true, createdAt: created.schedule.createdAt, backup: { level: 'full', tags: ['nightly'] } });
    expect(replaced.version).toBeGreaterThan(created.schedule.version);
    const bad = await call('PUT', `/v1/schedules/${id}`, body('every night'));
    expect(bad.status).toBe(400);
    expect((JSON.parse(bad.text) as { error: { message: string } }).error.message).toMatch(/^cron expression 'every night' has 2 fields/);
    const listed = JSON.parse((await call('GET', '/v1/schedules')).text) as { schedules: { id: string; cron: string }[] };
    expect(listed.schedules.map((x) => [x.id, x.cron])).toEqual([[id, '30 4 * * 1-5']]);
    expect((await call('PUT', '/v1/schedules/sched-missing', body('0 3 * * *'))).status).toBe(404);
  }, 60_000);

  it('keeps key status from viewers and lets auditors read it; a viewer may preview retention (it only reads backups)', async () => {
    const token = async (roles: string[]) => (JSON.parse((await call('POST', '/v1/tokens', { name: `ops-${roles[0]}`, roles })).text) as { token: string }).token;
    const viewer = await token(['viewer']);
    const auditor = await token(['auditor']);
    expect((await call('GET', '/v1/keys', undefined, viewer)).status).toBe(403);
    expect((await call('GET', '/v1/keys', undefined, auditor)).status).toBe(200);
    expect((await preview({ source: src, policy: { keepLast: 1 } }, viewer)).status).toBe(200);
    expect((await call('PUT', '/v1/schedules/sched-any', { kind: 'cron', cron: '0 3 * * *', backup: { source: { kind: 'filesystem', location: src } } }, viewer)).status).toBe(403);
  }, 60_000);
});
