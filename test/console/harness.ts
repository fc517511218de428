// Shared harness of the console end-to-end tests (test/console/*.e2e.spec.ts): a real cluster whose
// gateway logs users in against the test LDAP directory and serves a fresh console build, and
// headless Chromium (Debian's, driven by playwright-core) to click through it.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { ldapBindEnv, ldapFixture } from '../support/infra.js';
import type { LdapUser } from '../support/infra.js';
import { TestCluster } from '../cluster/cluster.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CONSOLE_SOURCES = join(ROOT, 'apps/console');
/** Builds keyed by the hash of the console's sources: parallel test files share one, never a half-written one. */
const BUILDS = join(ROOT, 'tmp/console-builds');
export const ARTIFACTS = join(ROOT, 'test/artifacts/console');
export const CHROMIUM = process.env.TRESOR_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** The LDAP users of test/infra (one password for all) by what they are in the tests. */
export function consoleUsers(): { admin: LdapUser; operator: LdapUser; auditor: LdapUser; custodians: [LdapUser, LdapUser, LdapUser]; viewer: LdapUser; requester: LdapUser } {
  const { users } = ldapFixture();
  return { admin: users.admin, operator: users.operator, auditor: users.auditor, custodians: users.custodians, viewer: users.viewer, requester: users.requester };
}

/** The gateway settings that log users in against the test directory, each role from its group. */
export function ldapGatewayEnv(): Record<string, string> {
  const fx = ldapFixture();
  return {
    ...ldapBindEnv(),
    TRESOR_AUTH_GROUP_MAP: JSON.stringify({
      [fx.groups.admin]: { roles: ['admin'], tenants: ['*'] },
      [fx.groups.operator]: { roles: ['operator'], tenants: ['*'] },
      [fx.groups.auditor]: { roles: ['auditor'], tenants: ['*'] },
      [fx.groups.custodian]: { roles: ['custodian'], tenants: ['*'] },
      [fx.groups.viewer]: { roles: ['viewer'], tenants: ['*'] },
    }),
  };
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.filter((e) => e.name !== 'node_modules' && !e.name.startsWith('.')).map((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : [join(dir, e.name)])),
  );
  return nested.flat().sort();
}

/**
 * A console build of the current sources (tmp/console-builds/<hash of apps/console>): built with
 * Vite when missing, so a test file runs alone; reused by every test file while the sources stay the same.
 */
export async function ensureConsoleBuild(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of await sourceFiles(CONSOLE_SOURCES)) hash.update(relative(CONSOLE_SOURCES, file)).update('\0').update(await readFile(file)).update('\0');
  const dir = join(BUILDS, hash.digest('hex').slice(0, 16));
  if (existsSync(join(dir, 'index.html'))) {
    // Marks the build as in use, so pruneBuilds() of another test file leaves it alone.
    await utimes(dir, new Date(), new Date()).catch(() => undefined);
    return dir;
  }
  const staging = `${dir}.${process.pid}.tmp`;
  await mkdir(BUILDS, { recursive: true });
  const vite = join(ROOT, 'node_modules/vite/bin/vite.js');
  const args = [vite, 'build', '--config', join(CONSOLE_SOURCES, 'vite.config.ts'), '--outDir', staging, '--emptyOutDir', '--logLevel', 'warn'];
  const output: string[] = [];
  const code = await new Promise<number>((done) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    child.on('close', (c) => done(c ?? -1));
  });
  if (code !== 0) throw new Error(`console build failed (${code}):\n${output.join('')}`);
  // Another test file may have finished the same build first: theirs is as good as ours.
  await rename(staging, dir).catch(async () => rm(staging, { recursive: true, force: true }));
  await pruneBuilds(dir);
  return dir;
}

/** Removes builds of older sources no test has started from for an hour (a running test's build stays). */
async function pruneBuilds(keep: string): Promise<void> {
  for (const name of await readdir(BUILDS)) {
    const dir = join(BUILDS, name);
    if (dir === keep) continue;
    const age = Date.now() - (await stat(dir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age > 3_600_000) await rm(dir, { recursive: true, force: true });
  }
}

/** Options of startConsole. */
export interface ConsoleOptions {
  /** Extra environment for every service (e.g. TRESOR_DUAL_CONTROL). */
  env?: Record<string, string>;
  /** Extra environment for the gateway only (after the LDAP settings). */
  gatewayEnv?: Record<string, string>;
}

/** A running cluster serving the console, and Chromium. */
export interface ConsoleHarness {
  cluster: TestCluster;
  /** The gateway's base URL, e.g. http://127.0.0.1:41234. */
  url: string;
  browser: Browser;
  /** A fresh browser context (its own session) at 1280x800 in a zone east of UTC, so local times differ from UTC. */
  newPage(options?: BrowserContextOptions): Promise<Page>;
  close(): Promise<void>;
}

/** Starts the whole cluster (gateway last, with LDAP logins and the console build) and Chromium. */
export async function startConsole(options: ConsoleOptions = {}): Promise<ConsoleHarness> {
  const consoleDir = await ensureConsoleBuild();
  const cluster = await TestCluster.create();
  const contexts: BrowserContext[] = [];
  let browser: Browser | undefined;
  try {
    const env = options.env ?? {};
    await cluster.start('storage-gateway', env);
    await Promise.all(['backup-engine', 'recovery', 'audit', 'monitoring', 'scheduler'].map((s) => cluster.start(s, env)));
    const gateway = await cluster.start('gateway', { ...env, ...ldapGatewayEnv(), TRESOR_CONSOLE_DIR: consoleDir, ...options.gatewayEnv });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const started = browser;
    return {
      cluster,
      url: gateway.http,
      browser: started,
      async newPage(contextOptions = {}) {
        const context = await started.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'Europe/Berlin', locale: 'en-GB', ...contextOptions });
        contexts.push(context);
        return context.newPage();
      },
      async close() {
        await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
        await started.close().catch(() => undefined);
        await cluster.stop();
      },
    };
  } catch (err) {
    await browser?.close().catch(() => undefined);
    await cluster.stop();
    throw err;
  }
}

/** Logs `user` in through the login form at `url` and waits for the navigation of the logged-in layout. */
export async function login(page: Page, url: string, user: { uid: string; password: string }): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Username').fill(user.uid);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.getByRole('navigation', { name: 'Screens' }).waitFor();
}

/** Writes a full-page screenshot to test/artifacts/console/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
