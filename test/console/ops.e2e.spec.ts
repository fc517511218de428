import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { consoleUsers, login, screenshot, startConsole } from './harness.js';
import type { ConsoleHarness } from './harness.js';

const users = consoleUsers();

/** Issue 12: the Schedules and policies, Compliance and Keys screens against the real cluster. */
describe('console: Schedules, Compliance and Keys screens (real cluster, headless Chromium)', () => {
  let h: ConsoleHarness;
  let dir: string;
  let source: string;
  const ids: string[] = [];

  const open = async (page: Page, label: string, heading = label) => {
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: label, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };

  /** The error text an input is marked invalid by and described by (the message shown under the field). */
  const fieldError = async (page: Page, input: Locator): Promise<string> => {
    await expect.poll(() => input.getAttribute('aria-invalid'), { timeout: 20_000 }).toBe('true');
    const id = (await input.getAttribute('aria-describedby'))!.split(' ').find((x) => x.endsWith('-error'))!;
    const error = page.locator(`[id="${id}"]`);
    expect(await error.getAttribute('class')).toBe('field-error');
    return (await error.textContent())!;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-console-ops-'));
    source = join(dir, 'hsm-exports');
    await mkdir(source, { recursive: true });
    h = await startConsole();
    // Three full backups, the oldest tagged for release: what a retention policy is previewed on.
    for (const [i, tags] of [[0, ['--tag', 'release']], [1, []], [2, []]] as const) {
      await writeFile(join(source, 'wrap.key'), `key-${i}-`.repeat(40), { mode: 0o600 });
      const r = await h.cluster.cli(['--server', h.url, 'backup', source, '--level', 'full', ...tags, '--json']);
      expect(r.stderr).toBe('');
      ids.push((JSON.parse(r.stdout) as { backupId: string }).backupId);
    }
  }, 300_000);
  afterAll(async () => {
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('an operator creates a schedule: the server refuses a bad cron next to its field, the fixed one is listed', async () => {
    const page = await h.newPage();
    await login(page, h.url, users.operator);
    await open(page, 'Schedules', 'Schedules and policies');
    await page.getByText('No schedules yet.').waitFor();
    await page.getByRole('button', { name: 'New schedule' }).click();
    const form = page.getByRole('region', { name: 'New schedule' });
    await form.getByLabel('Source').fill(source);
    const cron = form.getByLabel('Cron expression');
    await cron.fill('every night');
    await form.getByRole('button', { name: 'Create schedule' }).click();
    // The gateway's one-line error sits under the cron field, which is marked invalid and described by it.
    expect(await fieldError(page, cron)).toMatch(/^cron expression 'every night' has 2 fields/);
    expect(await form.locator('.field-error').count()).toBe(1);

    await cron.fill('0 3 * * *');
    expect(await cron.getAttribute('aria-invalid')).toBeNull();
    expect(await form.locator('.field-error').count()).toBe(0);
    await form.getByLabel('Time zone').fill('Europe/Berlin');
    await form.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByText('Schedule created.').waitFor();
    const rows = page.getByRole('table', { name: 'Backup schedules' }).locator('tbody tr[data-row]');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(1);
    expect(await rows.first().textContent()).toContain(source);
    expect(await rows.first().textContent()).toContain('cron 0 3 * * * (Europe/Berlin)');

    // Pause and resume through the row's buttons.
    await rows.first().getByRole('button', { name: 'Pause' }).click();
    await rows.first().getByRole('button', { name: 'Resume' }).waitFor();
    expect(await rows.first().textContent()).toContain('paused');
    await rows.first().getByRole('button', { name: 'Resume' }).click();
    await rows.first().getByRole('button', { name: 'Pause' }).waitFor();

    // Edit keeps the schedule (PUT): still one row, with the new timing.
    await rows.first().getByRole('button', { name: /^Edit/ }).click();
    const editor = page.getByRole('region', { name: 'Edit schedule' });
    expect(await editor.getByLabel('Cron expression').inputValue()).toBe('0 3 * * *');
    await editor.getByLabel('Cron expression').fill('30 4 * * 1-5');
    await editor.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Schedule saved.').waitFor();
    await expect.poll(async () => (await rows.first().textContent()) ?? '', { timeout: 20_000 }).toContain('cron 30 4 * * 1-5 (Europe/Berlin)');
    expect(await rows.count()).toBe(1);
  }, 180_000);

  it('previews a retention policy: which backups it keeps and by which rule, which it removes; a bad duration is shown at its field', async () => {
    const page = await h.newPage();
    await login(page, h.url, users.operator);
    await open(page, 'Schedules', 'Schedules and policies');
    const panel = page.getByRole('region', { name: 'Retention policy preview' });
    await panel.getByText(source).waitFor();
    for (const rule of ['Keep daily', 'Keep weekly', 'Keep monthly']) await panel.getByLabel(rule).fill('');
    const within = panel.getByLabel('Keep within');
    await within.fill('30 days');
    await panel.getByLabel('Keep last').fill('1');
    await panel.getByRole('button', { name: 'Preview retention' }).click();
    expect(await fieldError(page, within)).toMatch(/keep-within '30 days'/);

    await within.fill('');
    await panel.getByLabel('Keep tags').fill('release');
    await panel.getByRole('button', { name: 'Preview retention' }).click();
    const kept = panel.getByRole('table', { name: 'Backups the policy keeps' }).locator('tbody tr[data-row]');
    const removed = panel.getByRole('table', { name: 'Backups the policy would remove' }).locator('tbody tr[data-row]');
    await expect.poll(() => kept.count(), { timeout: 20_000 }).toBe(2);
    expect(await kept.nth(0).textContent()).toContain(ids[2]);
    expect(await kept.nth(0).textContent()).toContain('keep-last 1');
    expect(await kept.nth(1).textContent()).toContain(ids[0]);
    expect(await kept.nth(1).textContent()).toContain('keep-tag release');
    expect(await removed.count()).toBe(1);
    expect(await removed.first().textContent()).toContain(ids[1]);
    expect(await removed.first().textContent()).toContain('no rule keeps it');
    await screenshot(page, 'schedules');
  }, 120_000);

  it('an auditor reads the compliance report with links to its evidence, and the key versions with their cryptoperiods', async () => {
    const page = await h.newPage();
    await login(page, h.url, users.auditor);
    await open(page, 'Compliance');
    const repository = page.getByRole('table', { name: 'Controls of the repository' });
    await repository.waitFor({ timeout: 180_000 });
    expect(await repository.textContent()).toContain('audit-chain');
    expect(await repository.textContent()).toContain('kek-cryptoperiod');
    // The source's encryption finding names its latest backup, linked to that backup's page.
    const sourceControls = page.getByRole('table', { name: `Controls of source ${source}` });
    const backupLink = sourceControls.getByRole('link', { name: ids[2] }).first();
    await backupLink.waitFor();
    expect(await backupLink.getAttribute('href')).toBe(`/backups/${ids[2]}`);
    await screenshot(page, 'compliance');
    // The HTML report downloads with the session's token.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download HTML report' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^tresor-compliance-\d{4}-\d\d-\d\d\.html$/);

    await repository.getByRole('link', { name: 'Keys' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Keys' }).waitFor();
    const versions = page.getByRole('table', { name: 'Key-encryption key versions' }).locator('tbody tr[data-row]');
    await expect.poll(() => versions.count(), { timeout: 60_000 }).toBe(1);
    const row = (await versions.first().textContent())!;
    expect(row).toContain('365 d (default)');
    expect(row).toContain('Passphrase');
    expect(await versions.first().locator('.badge').allTextContents()).toEqual(['active', 'ok']);
    expect(await page.getByRole('region', { name: 'Key providers' }).textContent()).toContain('Passphrase (argon2id/scrypt): active version 1');
    await screenshot(page, 'keys');
  }, 240_000);

  it('a viewer sees schedules but cannot edit them, nor open compliance or keys; the gateway refuses the edit too', async () => {
    const page = await h.newPage();
    await login(page, h.url, users.viewer);
    const nav = page.getByRole('navigation', { name: 'Screens' });
    expect(await nav.getByRole('link', { name: 'Compliance', exact: true }).count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'Keys', exact: true }).count()).toBe(0);
    await open(page, 'Schedules', 'Schedules and policies');
    const rows = page.getByRole('table', { name: 'Backup schedules' }).locator('tbody tr[data-row]');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(1);
    expect(await page.getByRole('button', { name: 'New schedule' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^(Edit|Pause|Resume|Run now)/ }).count()).toBe(0);
    expect(await page.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0);

    const logged = await fetch(`${h.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: users.viewer.uid, password: users.viewer.password }) });
    const { accessToken } = (await logged.json()) as { accessToken: string };
    const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
    const create = await fetch(`${h.url}/v1/schedules`, { method: 'POST', headers: auth, body: JSON.stringify({ kind: 'cron', cron: '0 4 * * *', backup: { source: { kind: 'filesystem', location: source } } }) });
    expect(create.status).toBe(403);
    expect((await fetch(`${h.url}/v1/keys`, { headers: auth })).status).toBe(403);
  }, 120_000);
});
