import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOidcProvider } from '../support/oidc.js';
import type { TestOidcProvider } from '../support/oidc.js';
import { consoleUsers, ldapGatewayEnv, login, screenshot, startConsole } from './harness.js';
import type { ConsoleHarness } from './harness.js';

const users = consoleUsers();
const SERVICES = ['audit', 'backup-engine', 'gateway', 'monitoring', 'recovery', 'scheduler', 'storage-gateway'];
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

describe('console: login, Overview, headers (real cluster, headless Chromium)', () => {
  let h: ConsoleHarness;
  let op: TestOidcProvider;
  let dir: string;
  let source: string;
  let failedJobs = 0;

  /** POST as the harness admin; the job's final state. Logs in again when the 30-second token expired. */
  const backup = async (location: string): Promise<string> => {
    let headers = { authorization: `Bearer ${await h.cluster.login(h.url)}`, 'content-type': 'application/json' };
    const r = await fetch(`${h.url}/v1/backups`, { method: 'POST', headers, body: JSON.stringify({ source: { kind: 'filesystem', location }, level: 'full' }) });
    if (r.status >= 400) return `refused ${r.status}`;
    const { job } = (await r.json()) as { job: { id: string } };
    for (;;) {
      const res = await fetch(`${h.url}/v1/jobs/${job.id}`, { headers });
      if (res.status === 401) headers = { ...headers, authorization: `Bearer ${await h.cluster.login(h.url)}` };
      else {
        const j = (await res.json()) as { job: { state: string } };
        if (j.job.state === 'completed' || j.job.state === 'failed') return j.job.state;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tresor-console-overview-'));
    source = join(dir, 'hsm-keys');
    await mkdir(source);
    await writeFile(join(source, 'master.key'), 'k'.repeat(4096), { mode: 0o600 });
    await writeFile(join(source, 'wrap.key'), 'w'.repeat(2048), { mode: 0o600 });
    // Single sign-on too: a local OpenID provider whose account sam.sso is in the operators group.
    op = await startOidcProvider({ 'sam.sso': ['tresor-operators'] });
    const groupMap = { ...(JSON.parse(ldapGatewayEnv().TRESOR_AUTH_GROUP_MAP!) as object), 'tresor-operators': { roles: ['operator'], tenants: ['*'] } };
    // Access tokens live 30 s (the shortest allowed), so a test can see the console refresh one.
    h = await startConsole({ gatewayEnv: { TRESOR_OIDC_ISSUER: op.issuer, TRESOR_OIDC_CLIENT_ID: op.clientId, TRESOR_AUTH_GROUP_MAP: JSON.stringify(groupMap), TRESOR_AUTH_ACCESS_TTL_S: '30' } });
    expect(await backup(source)).toBe('completed');
    // A source whose path is gone: the backup fails, and the chart shows it.
    if ((await backup(join(dir, 'gone'))) === 'failed') failedJobs = 1;
  }, 600_000);
  afterAll(async () => {
    await h?.close();
    await op?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the console with the security headers, and an index.html without inline script or style', async () => {
    const r = await fetch(`${h.url}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toBe(CSP);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('strict-transport-security')).toBeNull();
    const html = await r.text();
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toMatch(/\ssrc="\/assets\/[^"]+\.js"/);
    expect(html).not.toMatch(/<style\b|\sstyle=/);
    // Behind a TLS proxy: HSTS. And the API is not opened by the console: no token, no data.
    expect((await fetch(`${h.url}/backups`, { headers: { 'x-forwarded-proto': 'https' } })).headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
    expect((await fetch(`${h.url}/v1/backups`)).status).toBe(401);
  });

  it('an operator logs in and sees every service, the source fresh, the alerts and the 30-day chart', { timeout: 180_000 }, async () => {
    const page = await h.newPage();
    await login(page, h.url, users.operator);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    const header = page.getByLabel('Signed-in user');
    expect(await header.textContent()).toContain(users.operator.uid);
    expect(await header.textContent()).toContain('operator');

    // Monitoring hears every service's heartbeat within seconds; Refresh re-reads /v1/health.
    const services = page.getByRole('table', { name: 'Services' });
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh' }).click();
          const text = (await services.textContent()) ?? '';
          return SERVICES.filter((s) => !text.includes(s));
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toEqual([]);
    expect(await services.locator('tbody tr').count()).toBeGreaterThanOrEqual(SERVICES.length);

    const freshness = page.getByRole('table', { name: 'Source freshness' });
    const row = freshness.locator('tbody tr', { hasText: source });
    await row.waitFor();
    expect(await row.textContent()).toContain('within RPO');
    // Times in the user's zone (Europe/Berlin here), UTC on hover.
    const time = row.locator('time');
    const title = (await time.getAttribute('title')) ?? '';
    expect(title).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    const iso = (await time.getAttribute('datetime')) ?? '';
    const berlin = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'Europe/Berlin' }).format(new Date(iso));
    expect(await time.textContent()).toBe(berlin);

    await page.getByRole('heading', { level: 2, name: 'Storage locations' }).waitFor();
    await page.getByRole('table', { name: 'Storage locations' }).waitFor();
    await page.getByRole('table', { name: 'Firing alerts' }).waitFor();
    const chart = page.getByRole('figure');
    await chart.waitFor();
    expect(await chart.locator('figcaption').textContent()).toMatch(new RegExp(`Last 30 days: 1 backup succeeded, ${failedJobs} failed, [\\d.]+ (B|KiB) stored\\.`));
    expect(await page.getByRole('img', { name: /^Backup outcomes per day/ }).locator('rect').count()).toBe(1 + failedJobs);

    const shot = await screenshot(page, 'overview');
    // The documentation shows the overview as this test last saw it.
    if (process.env.TRESOR_UPDATE_DOC_IMAGES === '1') await copyFile(shot, join(import.meta.dirname, '../../docs/images/console-overview.png'));

    // Keyboard: the first focusable element is the skip link; focused it shows, and Enter moves focus to the content.
    expect(await page.evaluate(() => document.querySelector('a[href], button, input, select, textarea, [tabindex="0"]')?.textContent)).toBe('Skip to content');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    await skip.focus();
    expect((await skip.boundingBox())?.x).toBeGreaterThanOrEqual(0);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
  });

  it('keeps the access token out of storage and cookies, survives a reload, and logs out for good', async () => {
    const page = await h.newPage();
    await login(page, h.url, users.operator);
    const stored = await page.evaluate(() => ({ cookies: document.cookie, local: localStorage.length, session: Object.keys(sessionStorage) }));
    expect(stored).toEqual({ cookies: '', local: 0, session: ['tresor.console.refreshToken'] });
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You have logged out.').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.reload();
    await page.getByRole('button', { name: 'Log in', exact: true }).waitFor();
  });

  it('refreshes an expired access token once and carries on (the refresh token rotates)', { timeout: 120_000 }, async () => {
    const page = await h.newPage();
    await login(page, h.url, users.operator);
    const before = await page.evaluate(() => sessionStorage.getItem('tresor.console.refreshToken'));
    const refreshes: number[] = [];
    page.on('response', (r) => {
      if (r.url().endsWith('/v1/auth/refresh')) refreshes.push(r.status());
    });
    // Past the 30 s lifetime: the next request gets a 401, the console refreshes and repeats it.
    await page.waitForTimeout(31_000);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => refreshes, { timeout: 20_000 }).toEqual([200]);
    await page.getByRole('table', { name: 'Services' }).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await page.getByRole('navigation', { name: 'Screens' }).count()).toBe(1);
    const after = await page.evaluate(() => sessionStorage.getItem('tresor.console.refreshToken'));
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);
  });

  it('logs in with single sign-on (authorization code + PKCE through the browser, redeemed by the gateway)', { timeout: 120_000 }, async () => {
    const page = await h.newPage();
    await page.goto(h.url);
    await page.getByRole('button', { name: 'Log in with single sign-on' }).click();
    // The provider's development pages: a login form (any password), then consent.
    for (let step = 0; step < 4 && !page.url().startsWith(h.url); step++) {
      await page.waitForLoadState();
      if (page.url().startsWith(h.url)) break;
      const loginField = page.locator('input[name="login"]');
      if (await loginField.count()) {
        await loginField.fill('sam.sso');
        await page.locator('input[name="password"]').fill('any');
      }
      await page.locator('button[type="submit"]').first().click();
      await page.waitForURL((u) => u.toString() !== page.url() || u.toString().startsWith(h.url), { timeout: 10_000 }).catch(() => undefined);
    }
    await page.getByRole('navigation', { name: 'Screens' }).waitFor();
    const header = (await page.getByLabel('Signed-in user').textContent()) ?? '';
    expect(header).toContain('sam.sso');
    expect(header).toContain('operator');
    // Back on the overview, the code and state are gone from the address bar.
    expect(new URL(page.url()).pathname).toBe('/');
    expect(new URL(page.url()).search).toBe('');
  });

  it('a wrong password gets the gateway\'s one-line message and no session', async () => {
    const page = await h.newPage();
    await page.goto(h.url);
    await page.getByLabel('Username').fill(users.operator.uid);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/invalid|credentials|password/i);
    expect(await page.getByRole('navigation', { name: 'Screens' }).count()).toBe(0);
  });

  it('a viewer sees the overview without the operator-only panels and navigation items', async () => {
    const page = await h.newPage();
    await login(page, h.url, users.viewer);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.getByRole('table', { name: 'Services' }).waitFor();
    await page.getByRole('table', { name: 'Source freshness' }).waitFor();
    const nav = ((await page.getByRole('navigation', { name: 'Screens' }).getByRole('link').allTextContents()) as string[]).map((t) => t.trim());
    expect(nav).toContain('Overview');
    for (const hidden of ['Restore', 'Approvals', 'Audit', 'Compliance']) expect(nav).not.toContain(hidden);
    // Storage (storage:read) and alerts (alerts:read) are not a viewer's: those panels are not there.
    expect(await page.getByRole('heading', { name: 'Storage locations' }).count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Alerts', exact: true }).count()).toBe(0);
    // Typing an address does not open a screen the roles do not allow.
    await page.goto(`${h.url}/restore`);
    await page.getByRole('alert').filter({ hasText: 'restores:create' }).waitFor();
    await screenshot(page, 'overview-viewer');
  });
});
