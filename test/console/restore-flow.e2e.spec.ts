// Issue 12's "done when" flow in headless Chromium against the real cluster: an operator backs a
// source up twice and requests a restore of `*.key` as it was at the first backup, two custodians
// approve it in their own browser contexts, it executes (checked byte for byte on disk), and an
// auditor finds every step in the Audit screen; a viewer sees none of the restore or approval actions.
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { until } from '../support/wait.js';
import { consoleUsers, ldapGatewayEnv, login, screenshot, startConsole } from './harness.js';
import type { ConsoleHarness } from './harness.js';

const users = consoleUsers();
const [carla, colin, cora] = users.custodians;
const OLD = { 'a.key': 'first a.key: 3f9c1e', 'team/b.key': 'first b.key: 77ad02', 'notes.txt': 'not a key' };
const NEW = { 'a.key': 'second a.key, different bytes', 'team/b.key': 'second b.key', 'team/c.key': 'only in the second backup', 'notes.txt': 'still not a key' };

/** The visible text of a locator once `test` accepts it (waits up to `ms`). */
async function textWhen(page: Page, selector: string, test: (text: string) => boolean, ms = 60_000): Promise<string> {
  return until(`${selector} to match`, ms, async () => {
    const text = (await page.locator(selector).first().textContent().catch(() => null)) ?? '';
    return test(text) ? text : undefined;
  }, { intervalMs: 250 });
}

describe('console: backup, point-in-time restore of *.key under dual control, approvals, audit (issue 12)', () => {
  let h: ConsoleHarness;
  let source: string;
  const tokens: Record<string, string> = {};
  const backups: { id: string; createdAt: string }[] = [];

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(`${h.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  };
  const write = async (files: Record<string, string>, dir = source) => {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), content);
    }
  };
  const backUp = async (dir = source) => {
    const started = await call('POST', '/v1/backups', tokens.operator!, { source: { kind: 'filesystem', location: dir } });
    expect(started.status).toBe(202);
    const jobId = (started.body.job as { id: string }).id;
    const done = await until('the backup job to finish', 120_000, async () => {
      const job = (await call('GET', `/v1/jobs/${jobId}`, tokens.operator!)).body.job as { state: string; result: { backupId: string } | null };
      return job.state === 'completed' || job.state === 'failed' ? job : undefined;
    }, { intervalMs: 250 });
    expect(done.state).toBe('completed');
    const backup = (await call('GET', `/v1/backups/${done.result!.backupId}`, tokens.operator!)).body.backup as { id: string; createdAt: string };
    backups.push(backup);
    return backup;
  };

  let plain: string;

  beforeAll(async () => {
    // A source outside dual control (its path must be known before the gateway starts).
    plain = await mkdtemp(join(tmpdir(), 'tresor-console-plain-'));
    // Custodians may request restores here too, to show they cannot approve their own.
    const groups = JSON.parse(ldapGatewayEnv().TRESOR_AUTH_GROUP_MAP!) as Record<string, { roles: string[] }>;
    for (const grant of Object.values(groups)) if (grant.roles.includes('custodian')) grant.roles.push('operator');
    h = await startConsole({
      gatewayEnv: { TRESOR_AUTH_GROUP_MAP: JSON.stringify(groups), TRESOR_DUAL_CONTROL: JSON.stringify({ approvals: 2, expirySeconds: 3600, sources: { [plain]: { sensitive: false } } }) },
    });
    source = join(h.cluster.dir, 'src-keys');
    for (const [name, u] of Object.entries({ operator: users.operator, viewer: users.viewer, admin: users.admin, cora })) {
      const r = await fetch(`${h.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u.uid, password: u.password }) });
      expect(r.status).toBe(200);
      tokens[name] = ((await r.json()) as { accessToken: string }).accessToken;
    }
  }, 300_000);
  afterAll(async () => {
    await h?.close();
    await rm(plain, { recursive: true, force: true });
  });

  it('runs the whole flow', async () => {
    // Two backups with different content, so "the first point in time" is observable in the restored bytes.
    await write(OLD);
    await backUp();
    await write(NEW);

    const operator = await h.newPage();
    await login(operator, h.url, users.operator);
    await operator.getByRole('link', { name: 'Restore' }).click();
    await operator.getByLabel('Source', { exact: true }).selectOption(source);
    // Only the first backup exists yet: one marker on the timeline.
    await until('one backup on the timeline', 30_000, async () => ((await operator.getByRole('radio').count()) === 1 ? true : undefined));

    // The second backup starts now; the operator watches it arrive on the Restore screen's timeline.
    await backUp();
    await until('the second backup on the timeline', 120_000, async () => {
      // Leaving the screen and coming back loads its data afresh (a reload would drop the in-memory session).
      await operator.getByRole('link', { name: 'Overview' }).click();
      await operator.getByRole('link', { name: 'Restore' }).click();
      await operator.getByLabel('Source', { exact: true }).selectOption(source);
      // The timeline draws once the source's backups are loaded; count its markers then.
      await operator.getByRole('radio').first().waitFor({ timeout: 30_000 });
      return (await operator.getByRole('radio').count()) === 2 ? true : undefined;
    }, { intervalMs: 1000 });

    // Keyboard: the newest backup holds the tab stop; Home moves to (and selects) the first one.
    const newest = operator.getByRole('radio').last();
    await newest.focus();
    await operator.keyboard.press('Home');
    await textWhen(operator, '[data-testid=chosen-backup]', (t) => t.includes(backups[0]!.id));
    expect(await operator.getByRole('radio').first().getAttribute('aria-checked')).toBe('true');
    // Local time on screen (the browser runs in Europe/Berlin), UTC in the hover title.
    const utc = `${backups[0]!.createdAt.slice(0, 19).replace('T', ' ')} UTC`;
    expect(await operator.locator('[data-testid=chosen-backup] time').getAttribute('title')).toBe(utc);
    expect(await operator.locator('[data-testid=chosen-backup] time').textContent()).not.toContain('UTC');

    // The live preview: *.key of the first backup is a.key and team/b.key (c.key came later, notes.txt is no key).
    await operator.getByLabel('Include patterns').fill('*.key');
    await textWhen(operator, '[data-testid=preview-totals]', (t) => t.startsWith('2 files') && t.includes(backups[0]!.id));
    const previewed = await operator.getByRole('table', { name: 'Entries that would be restored' }).locator('tbody tr td:first-child').allTextContents();
    expect(previewed.sort()).toEqual(['a.key', 'team/b.key']);

    const target = join(h.cluster.dir, 'restored-keys');
    await operator.getByLabel('Target directory').fill(target);
    await operator.getByRole('button', { name: 'Request restore' }).click();
    const pending = await textWhen(operator, '[data-testid=approval-state]', (t) => t.includes('pending'));
    expect(pending).toContain('0 of 2 approvals');
    await screenshot(operator, 'restore');
    const requestId = /request (\S+),/.exec(pending)![1]!;

    // A viewer sees neither the Restore nor the Approvals screen, and the gateway refuses the actions.
    const viewer = await h.newPage();
    await login(viewer, h.url, users.viewer);
    const nav = await viewer.getByRole('navigation', { name: 'Screens' }).textContent();
    expect(nav).not.toMatch(/Restore|Approvals/);
    // Straight to the address, as a bookmark inside the app would go (react-router follows popstate).
    await viewer.evaluate("history.pushState({}, '', '/restore'); dispatchEvent(new PopStateEvent('popstate'))");
    await textWhen(viewer, 'main', (t) => t.includes('Your roles do not allow this screen'));
    expect(await viewer.getByRole('button', { name: 'Request restore' }).count()).toBe(0);
    expect((await call('POST', '/v1/restores', tokens.viewer!, { source, target: join(h.cluster.dir, 'viewer'), include: ['*.key'] })).status).toBe(403);
    expect((await call('GET', `/v1/restores/preview?source=${encodeURIComponent(source)}`, tokens.viewer!)).status).toBe(403);
    expect((await call('GET', `/v1/approvals/${requestId}`, tokens.viewer!)).status).toBe(403);
    expect((await call('POST', `/v1/approvals/${requestId}/approve`, tokens.viewer!, { password: users.viewer.password })).status).toBe(403);
    // The requester follows their own request; nobody else reads it through that route.
    expect((await call('GET', `/v1/restores/requests/${requestId}`, tokens.operator!)).body.approval).toMatchObject({ id: requestId, state: 'pending' });
    expect((await call('GET', `/v1/restores/requests/${requestId}`, tokens.admin!)).status).toBe(404);

    // Two custodians, each in their own browser context, approve with their password again.
    const approveAs = async (custodian: typeof carla, expected: RegExp) => {
      const page = await h.newPage();
      await login(page, h.url, custodian);
      await page.getByRole('link', { name: 'Approvals' }).click();
      const row = page.getByRole('row').filter({ hasText: users.operator.uid });
      await row.first().click();
      await page.getByLabel('Your password').fill(custodian.password);
      await page.getByRole('button', { name: 'Approve', exact: true }).click();
      await textWhen(page, '#decision-title ~ [role=status]', (t) => expected.test(t));
      return page;
    };
    const first = await approveAs(carla, /^Approved: 1 of 2 approvals \(carla\.custodian\)/);
    await screenshot(first, 'approvals');
    await approveAs(colin, /^Approved: the restore is queued as job /);

    // The operator's screen follows it to the end.
    await textWhen(operator, '[data-testid=approval-state]', (t) => t.includes('executed') && t.includes('2 of 2 approvals (carla.custodian, colin.custodian)'));
    await textWhen(operator, '[data-testid=job-state]', (t) => t.includes('completed'), 120_000);
    expect(await operator.getByRole('region', { name: 'Your restore' }).textContent()).toContain('Restored 2 files');

    // On disk: the first backup's *.key files, byte for byte, and nothing else.
    expect(await readFile(join(target, 'a.key'), 'utf8')).toBe(OLD['a.key']);
    expect(await readFile(join(target, 'team/b.key'), 'utf8')).toBe(OLD['team/b.key']);
    expect((await readdir(target)).sort()).toEqual(['a.key', 'team']);
    expect(await readdir(join(target, 'team'))).toEqual(['b.key']);

    // The auditor finds every step in the Audit screen, the chain verifies, and the export holds them too.
    const auditor = await h.newPage({ acceptDownloads: true });
    await login(auditor, h.url, users.auditor);
    await auditor.getByRole('link', { name: 'Audit' }).click();
    await textWhen(auditor, '[data-testid=chain-status]', (t) => t.includes('chain intact'));
    await auditor.getByRole('button', { name: 'Search', exact: true }).click();
    const table = auditor.getByRole('table', { name: /Audit entries matching/ });
    await table.waitFor();
    const rows = (await table.locator('tbody tr').allTextContents()).join('\n');
    expect(rows.match(/oscar\.operator.*backups:create/g)).toHaveLength(2);
    for (const step of [/oscar\.operator.*restores:create/, /oscar\.operator.*approvals\.request/, /carla\.custodian.*approvals\.approve/, /colin\.custodian.*approvals\.approve/, /approvals\.execute/]) expect(rows).toMatch(step);

    await auditor.getByLabel('Action', { exact: true }).fill('approvals.');
    await auditor.getByRole('button', { name: 'Search', exact: true }).click();
    await until('the approvals-only search', 30_000, async () => {
      const actions = await table.locator('tbody tr td:nth-child(4)').allTextContents();
      return actions.length === 4 && actions.every((a) => a.startsWith('approvals.')) ? actions : undefined;
    });
    await screenshot(auditor, 'audit');
    const [download] = await Promise.all([auditor.waitForEvent('download'), auditor.getByRole('button', { name: 'Export CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^tresor-audit-.*\.csv$/);
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(5);
    expect(lines.slice(1).map((l) => l.split(',')[5]).sort()).toEqual(['approvals.approve', 'approvals.approve', 'approvals.execute', 'approvals.request']);
  }, 600_000);

  it('dry-runs a restore of a source outside dual control at once, and tells a custodian they cannot approve their own request', async () => {
    await write({ 'x.key': 'plain x', 'y.txt': 'plain y' }, plain);
    const plainBackup = await backUp(plain);
    // The preview route itself: patterns, the listing limit, and a point in time before any backup.
    const preview = (query: string) => call('GET', `/v1/restores/preview?source=${encodeURIComponent(plain)}&${query}`, tokens.operator!);
    expect((await preview('include=*.key')).body).toMatchObject({ backup: { id: plainBackup.id, source: plain }, sensitive: false, entries: [{ path: 'x.key', type: 'file', size: 7 }], totals: { files: 1, bytes: 7 }, truncated: false });
    const limited = (await preview('limit=1')).body as { entries: unknown[]; totals: { files: number; bytes: number }; truncated: boolean };
    expect(limited.entries).toHaveLength(1);
    expect(limited).toMatchObject({ totals: { files: 2, bytes: 14 }, truncated: true });
    expect((await preview('include=*.key&exclude=x.*')).body).toMatchObject({ entries: [], totals: { files: 0 } });
    expect((await preview('at=2000-01-01T00:00:00Z')).status).toBe(404);
    expect((await preview('at=yesterday')).body).toEqual({ error: { code: 'USAGE', message: "at 'yesterday' is not an ISO-8601 time" } });

    const operator = await h.newPage();
    await login(operator, h.url, users.operator);
    await operator.getByRole('link', { name: 'Restore' }).click();
    await operator.getByLabel('Source', { exact: true }).selectOption(plain);
    await operator.getByLabel('Include patterns').fill('*.key');
    await textWhen(operator, '[data-testid=preview-totals]', (t) => t.startsWith('1 file,') && t.includes(plainBackup.id) && !t.includes('dual control'));
    const target = join(h.cluster.dir, 'dry-run-target');
    await operator.getByLabel('Target directory').fill(target);
    await operator.getByRole('button', { name: 'Dry run' }).click();
    await textWhen(operator, '[data-testid=job-state]', (t) => t.includes('completed'), 120_000);
    expect(await operator.getByRole('region', { name: 'Your restore' }).textContent()).toContain('Dry run: would restore 1 file (');
    // No approval was needed, and nothing was written.
    expect(await operator.locator('[data-testid=approval-state]').count()).toBe(0);
    await expect(readdir(target)).rejects.toThrow(/ENOENT/);

    // cora is a custodian who may also request restores: her own request is not hers to approve.
    const second = join(h.cluster.dir, 'src-cora');
    await write({ 'z.key': 'cora z' }, second);
    const secondBackup = await backUp(second);
    const requested = await call('POST', '/v1/restores', tokens.cora!, { backup: secondBackup.id, target: join(h.cluster.dir, 'cora-target') });
    expect(requested.status).toBe(202);
    const requestId = (requested.body.approval as { id: string }).id;
    const page = await h.newPage();
    await login(page, h.url, cora);
    await page.getByRole('link', { name: 'Approvals' }).click();
    await page.getByRole('row').filter({ hasText: cora.uid }).first().click();
    await textWhen(page, '#decision-title ~ [role=alert]', (t) => t.includes('You requested this restore, so you cannot approve it'));
    expect(await page.getByRole('button', { name: 'Approve', exact: true }).count()).toBe(0);
    const refused = await call('POST', `/v1/approvals/${requestId}/approve`, tokens.cora!, { password: cora.password });
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).toMatch(/cannot approve/);
  }, 300_000);
});
