import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { consoleUsers, login, screenshot, startConsole } from './harness.js';
import type { ConsoleHarness } from './harness.js';

const users = consoleUsers();

describe('console: Sources and Backups screens (real cluster, headless Chromium)', () => {
  let h: ConsoleHarness;
  let dir: string;
  let source: string;
  let backupUrl = '';

  const open = async (page: Page, label: string) => {
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: label, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: label }).waitFor();
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-console-backups-'));
    source = join(dir, 'payments-keys');
    await mkdir(join(source, 'tls'), { recursive: true });
    await writeFile(join(source, 'signing.key'), 'signing key material\n', { mode: 0o600 });
    await writeFile(join(source, 'tls', 'server.key'), 'x'.repeat(5000), { mode: 0o600 });
    await writeFile(join(source, 'tls', 'server.crt'), 'certificate\n', { mode: 0o644 });
    h = await startConsole();
    // A Vite build when the console sources changed, then seven services on a shared 2-core machine.
  }, 600_000);
  afterAll(async () => {
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('an operator starts a backup, watches its progress reach completion, opens it and sees its entries; verifies it', async () => {
    const page = await h.newPage();
    await login(page, h.url, users.operator);
    await open(page, 'Backups');
    await page.getByText('No backups yet.').waitFor();
    await page.getByRole('button', { name: 'Start backup' }).click();
    const form = page.locator('form.start-backup-form');
    await form.getByLabel('Source', { exact: true }).selectOption({ label: 'Another path…' });
    await form.getByLabel('Path on the backup hosts').fill(source);
    await form.getByLabel('Level').selectOption('full');
    await form.getByRole('button', { name: 'Start backup' }).click();

    // The progress panel follows GET /v1/events?job=… until the backup completed.
    const progress = page.getByTestId('job-progress');
    await progress.and(page.locator('[data-phase="completed"]')).waitFor({ timeout: 240_000 });
    expect(await progress.textContent()).toMatch(/completed.*3 files/s);
    // The list reloaded when the job completed: one backup of the new source, unverified since.
    const rows = page.getByRole('table', { name: /^Backups/ }).locator('tbody tr[data-row]');
    await rows.filter({ hasText: source }).waitFor({ timeout: 60_000 });
    expect(await rows.count()).toBe(1);
    await screenshot(page, 'backups');

    await progress.getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: /^Backup \S+/ }).waitFor();
    backupUrl = page.url();
    const entries = page.getByRole('table', { name: /^Entries/ });
    await entries.waitFor();
    const text = await entries.textContent();
    for (const name of ['signing.key', 'tls/server.key', 'tls/server.crt']) expect(text).toContain(name);
    // Sizes with units: the 5000-byte key reads as 4.88 KiB (see components/format.ts).
    expect(text).toContain('4.88 KiB');

    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.getByText('The backup verified.').waitFor({ timeout: 240_000 });
    const verifications = page.getByRole('table', { name: /Verifications of this backup/ });
    await expect.poll(async () => verifications.locator('tbody').textContent(), { timeout: 60_000 }).toContain('verified');
    await screenshot(page, 'backup-detail');

    await open(page, 'Sources');
    const sourceRow = page.getByRole('table', { name: /^Sources/ }).locator('tbody tr', { hasText: source });
    await sourceRow.waitFor();
    expect(await sourceRow.textContent()).toContain('fresh');
    await page.getByLabel('Search').fill('no-such-source');
    await page.getByText('No source matches the filters.').waitFor();
    await page.getByLabel('Search').fill('payments');
    await sourceRow.waitFor();
    await screenshot(page, 'sources');
  }, 600_000);

  it('a viewer sees the lists and the detail, but no Start backup or Verify button', async () => {
    const page = await h.newPage();
    await login(page, h.url, users.viewer);
    await open(page, 'Backups');
    const rows = page.getByRole('table', { name: /^Backups/ }).locator('tbody tr', { hasText: source });
    await rows.first().waitFor();
    expect(await page.getByRole('button', { name: 'Start backup' }).count()).toBe(0);
    await open(page, 'Sources');
    await page.getByRole('table', { name: /^Sources/ }).locator('tbody tr', { hasText: source }).waitFor();
    await open(page, 'Backups');
    await rows.first().click();
    await page.getByRole('table', { name: /^Entries/ }).waitFor();
    expect(page.url()).toBe(backupUrl);
    expect(await page.getByRole('button', { name: /^Verify/ }).count()).toBe(0);
  }, 240_000);
});
