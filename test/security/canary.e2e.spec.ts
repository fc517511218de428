import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashBreakGlassPassword } from '@tresor/auth';
import { createInterface } from 'node:readline';
import { ldapBindEnv, ldapFixture, s3Bucket } from '../support/infra.js';
import { browseAuthorization, startOidcProvider } from '../support/oidc.js';
import type { TestOidcProvider } from '../support/oidc.js';
import type { S3Bucket } from '../support/infra.js';
import { PASSPHRASE as CLUSTER_PASSPHRASE, TestCluster } from '../cluster/cluster.js';

/**
 * The secrets-hygiene acceptance test of issue #6 (ADR 0021): known canary secrets are planted
 * through every path a secret enters Tresor (CLI environment and options, config files, API bodies,
 * the contents of a key file being backed up), real backups, restores and logins run, and then
 * every log line, CLI output, event and catalog/audit record is searched for each canary. The
 * restored key file is the one place its content may appear.
 */

const TRESOR = resolve(import.meta.dirname, '../../bin/tresor.mjs');
const canary = (what: string): string => `CANARY-${what}-${randomBytes(9).toString('hex')}`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Everything a canary must not appear in, each with a name for the failure message. */
class Haystack {
  private readonly places: { where: string; text: string }[] = [];
  add(where: string, text: string): void {
    this.places.push({ where, text });
  }
  /** The places each secret was found in (empty when none leaked). */
  leaks(secrets: Record<string, string>): string[] {
    const found: string[] = [];
    for (const [name, value] of Object.entries(secrets)) {
      for (const p of this.places) if (p.text.includes(value)) found.push(`${name} in ${p.where}: …${excerpt(p.text, value)}…`);
    }
    return found;
  }
  get size(): number {
    return this.places.length;
  }
}

function excerpt(text: string, value: string): string {
  const i = text.indexOf(value);
  return text.slice(Math.max(0, i - 80), i + value.length + 40).replace(/\s+/g, ' ');
}

function tresor(args: string[], env: Record<string, string | undefined>, home: string): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [TRESOR, ...args], {
      env: { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

/** Every file under `dir` as text (latin1 keeps any byte sequence searchable). */
async function filesUnder(dir: string): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out.push({ path, text: (await readFile(path)).toString('latin1') });
  }
  return out;
}

describe('canary secrets never leak (secrets hygiene, issue #6)', () => {
  describe('standalone CLI', () => {
    let dir: string;
    let s3: S3Bucket;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tresor-canary-'));
      s3 = await s3Bucket();
    });
    afterAll(async () => {
      await s3?.cleanup();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('passphrases, PIN, token, storage credentials and key file contents appear in no output and no repository file', async () => {
      const creds = s3.config.credentials as { accessKeyId: string; secretAccessKey: string };
      const C = {
        passphrase: canary('passphrase'),
        wrongPassphrase: canary('wrong-passphrase'),
        namedVarPassphrase: canary('named-var-passphrase'),
        token: canary('token'),
        pin: canary('pin'),
        urlPassword: canary('url-password'),
        keyFile: canary('key-file-content'),
        s3Secret: creds.secretAccessKey,
      };
      const repo = join(dir, 'repo');
      const src = join(dir, 'keys');
      await mkdir(join(src, 'payments'), { recursive: true });
      await writeFile(join(src, 'payments', 'signing.key'), `-----BEGIN PRIVATE KEY-----\n${C.keyFile}\n-----END PRIVATE KEY-----\n`, { mode: 0o600 });
      await writeFile(join(src, 'README'), 'not a secret\n');
      const env = {
        TRESOR_PASSPHRASE: C.passphrase,
        TRESOR_TOKEN: C.token,
        TRESOR_PKCS11_PIN: C.pin,
        CANARY_S3_KEY_ID: creds.accessKeyId,
        CANARY_S3_SECRET: C.s3Secret,
      };
      const storage = [
        { name: 'primary', type: 'local', path: 'objects' },
        {
          name: 'offsite',
          type: 's3',
          bucket: s3.bucket,
          endpoint: s3.config.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: { env: 'CANARY_S3_KEY_ID' }, secretAccessKey: { env: 'CANARY_S3_SECRET' } },
        },
      ];
      const hay = new Haystack();
      const run = async (label: string, args: string[], extra: Record<string, string | undefined> = {}): Promise<Run> => {
        const r = await tresor(args, { ...env, ...extra }, dir);
        hay.add(`\`tresor ${label}\` stdout`, r.stdout);
        hay.add(`\`tresor ${label}\` stderr`, r.stderr);
        return r;
      };

      expect((await run('init', ['--repo', repo, 'init', '--kdf', 'scrypt', '--storage', JSON.stringify(storage)])).code).toBe(0);
      const backup = await run('backup', ['--repo', repo, '--json', 'backup', src]);
      expect(backup.stderr).toBe('');
      expect(backup.code).toBe(0);
      for (const [label, args] of [
        ['list', ['--repo', repo, '--json', 'list']],
        ['show', ['--repo', repo, '--json', 'show', 'latest']],
        ['verify', ['--repo', repo, 'verify', 'latest']],
        ['storage list', ['--repo', repo, 'storage', 'list']],
        ['storage check', ['--repo', repo, '--json', 'storage', 'check']],
      ] as const) {
        expect((await run(label, [...args])).code, label).toBe(0);
      }
      const target = join(dir, 'restored');
      const restore = await run('restore', ['--repo', repo, 'restore', 'latest', '--target', target]);
      expect(restore.code).toBe(0);
      expect(await readFile(join(target, 'payments', 'signing.key'), 'utf8')).toContain(C.keyFile);

      // The passphrase from a named variable, and the error paths: a wrong passphrase (also with --debug
      // stacks), a passphrase variable that is not set, a gateway URL with a password in it, a bad token.
      expect((await run('list --passphrase-env', ['--repo', repo, '--passphrase-env', 'MY_PASS', 'list'], { TRESOR_PASSPHRASE: undefined, MY_PASS: C.passphrase })).code).toBe(0);
      const wrong = await run('restore (wrong passphrase)', ['--repo', repo, '--debug', 'restore', 'latest', '--target', join(dir, 'nope')], { TRESOR_PASSPHRASE: C.wrongPassphrase });
      expect(wrong.code).not.toBe(0);
      const wrongNamed = await run('restore (wrong named passphrase)', ['--repo', repo, '--passphrase-env', 'MY_PASS', 'restore', 'latest', '--target', join(dir, 'nope2')], { MY_PASS: C.namedVarPassphrase });
      expect(wrongNamed.code).not.toBe(0);
      const badUrl = await run('list --server (password in URL)', ['--server', `http://ops:${C.urlPassword}@127.0.0.1:9/`, '--debug', 'list']);
      expect(badUrl.code).not.toBe(0);
      expect(badUrl.stderr).not.toBe('');

      for (const f of await filesUnder(repo)) hay.add(`repository file ${f.path}`, f.text);
      expect(hay.size).toBeGreaterThan(20);
      // The key file's content is where it belongs, in the restored file (and the source), nowhere above.
      expect(hay.leaks(C)).toEqual([]);
    }, 600_000);
  });

  describe('cluster (every service its own process)', () => {
    let cluster: TestCluster;
    let server: string;
    let nc: NatsConnection;
    const events: string[] = [];
    const fx = ldapFixture();
    const C = {
      clusterPassphrase: CLUSTER_PASSPHRASE,
      ldapBindPassword: fx.adminPassword,
      ldapUserPassword: fx.users.admin.password,
      wrongLoginPassword: canary('wrong-login-password'),
      breakGlassPassword: canary('break-glass-password'),
      webhookHmac: canary('webhook-hmac'),
      keyFile: canary('cluster-key-file'),
      bogusToken: canary('bogus-token'),
    };
    let apiToken = '';
    let sessionTokens: string[] = [];
    let op: TestOidcProvider;

    beforeAll(async () => {
      cluster = await TestCluster.create();
      op = await startOidcProvider({ 'canary.sso': ['canary-sso-admins'] });
      nc = await cluster.nats.connect();
      nc.subscribe(`${cluster.nats.subjectPrefix}.events.>`, {
        callback: (_e, m) => {
          events.push(Buffer.from(m.data).toString('utf8'));
        },
      });
      const alerts = join(cluster.dir, 'alerts.json');
      await writeFile(
        alerts,
        JSON.stringify({
          groupWindowMs: 0,
          channels: { hook: { type: 'webhook', url: 'http://127.0.0.1:9/alerts', secret: { env: 'CANARY_WEBHOOK_HMAC' } } },
          routes: [{ levels: ['CRITICAL'], channels: ['hook'] }],
        }),
      );
      await cluster.start('storage-gateway');
      await Promise.all([
        cluster.start('backup-engine'),
        cluster.start('recovery'),
        cluster.start('audit'),
        cluster.start('monitoring', { TRESOR_ALERTS_CONFIG: alerts, CANARY_WEBHOOK_HMAC: C.webhookHmac }),
      ]);
      // The harness's own break-glass login is replaced by ours (a canary password): log in ourselves.
      cluster.token = 'set-below';
      const gateway = await cluster.start('gateway', {
        ...ldapBindEnv(),
        TRESOR_AUTH_GROUP_MAP: JSON.stringify({ [fx.groups.admin]: { roles: ['admin'], tenants: ['*'] }, 'canary-sso-admins': 'viewer' }),
        TRESOR_OIDC_ISSUER: op.issuer,
        TRESOR_OIDC_CLIENT_ID: op.clientId,
        TRESOR_AUTH_BREAKGLASS_USER: 'canary-breakglass',
        TRESOR_AUTH_BREAKGLASS_HASH: await hashBreakGlassPassword(C.breakGlassPassword),
      });
      server = gateway.http;
    }, 300_000);
    afterAll(async () => {
      await cluster?.stop();
      await op?.close();
    });

    const post = async (path: string, body: unknown, token?: string) => {
      const r = await fetch(`${server}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json().catch(() => ({}))) as Record<string, unknown> };
    };

    it('logins, token creation, backup and restore leave no canary in logs, events, the catalog or the audit log', async () => {
      // API bodies: LDAP and break-glass logins (right and wrong passwords), token creation.
      const ldap = await post('/v1/auth/login', { username: fx.users.admin.uid, password: C.ldapUserPassword });
      expect(ldap.status).toBe(200);
      expect((await post('/v1/auth/login', { username: fx.users.admin.uid, password: C.wrongLoginPassword })).status).toBe(401);
      const bg = await post('/v1/auth/login', { username: 'canary-breakglass', password: C.breakGlassPassword });
      expect(bg.status).toBe(200);
      expect((await post('/v1/auth/login', { username: 'canary-breakglass', password: C.wrongLoginPassword })).status).toBe(401);
      const admin = bg.body.accessToken as string;
      sessionTokens = [admin, bg.body.refreshToken as string, ldap.body.accessToken as string, ldap.body.refreshToken as string];
      const created = await post('/v1/tokens', { name: 'canary-automation', roles: ['admin'], tenants: ['*'], ttlSeconds: 3600 }, admin);
      expect(created.status).toBe(201);
      apiToken = created.body.token as string;
      cluster.token = apiToken;

      // A backup and a restore through the gateway with the API token (TRESOR_TOKEN), of a key file
      // whose content is a canary; a bogus token on the CLI's environment is refused without echo.
      const src = join(cluster.dir, 'keys');
      await mkdir(join(src, 'hsm'), { recursive: true });
      await writeFile(join(src, 'hsm', 'master.key'), `${C.keyFile}\n`, { mode: 0o600 });
      const outputs: Run[] = [];
      const cli = async (args: string[], env: Record<string, string> = {}) => {
        const r = await cluster.cli(['--server', server, ...args], env);
        outputs.push(r);
        return r;
      };
      const backup = await cli(['--json', 'backup', src]);
      expect(backup.stderr).toBe('');
      expect(backup.code).toBe(0);
      expect((await cli(['list'])).code).toBe(0);
      const target = join(cluster.dir, 'restored');
      const restore = await cli(['restore', 'latest', '--target', target]);
      expect(restore.code).toBe(0);
      expect(await readFile(join(target, 'hsm', 'master.key'), 'utf8')).toBe(`${C.keyFile}\n`);
      const refused = await cli(['--debug', 'list'], { TRESOR_TOKEN: C.bogusToken });
      expect(refused.code).not.toBe(0);

      // Single sign-on: `tresor login --sso` (code + PKCE); the code travels through the CLI's loopback listener.
      const ssoHome = join(cluster.dir, 'sso-home');
      const child = spawn(process.execPath, [resolve(import.meta.dirname, '../../bin/tresor.mjs'), 'login', '--sso'], {
        env: { PATH: process.env.PATH, HOME: ssoHome, TRESOR_SERVER: server },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const sso: Run = { code: -1, stdout: '', stderr: '' };
      child.stdout.on('data', (d: Buffer) => (sso.stdout += d));
      const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
      const link = await new Promise<string>((r) =>
        createInterface({ input: child.stderr }).on('line', (l) => {
          sso.stderr += `${l}\n`;
          if (l.startsWith('http')) r(l);
        }),
      );
      const back = await browseAuthorization(link, 'canary.sso');
      const ssoCode = back.searchParams.get('code') ?? '';
      expect(ssoCode.length).toBeGreaterThan(10);
      expect((await fetch(back)).status).toBe(200);
      sso.code = await exited;
      expect(sso.code).toBe(0);
      outputs.push(sso);
      const cached = JSON.parse(await readFile(join(ssoHome, '.config', 'tresor', 'credentials.json'), 'utf8')) as Record<string, { accessToken: string; refreshToken: string }>;
      const ssoSession = Object.values(cached)[0]!;

      // Let the last events, audit entries and log lines land.
      await new Promise((r) => setTimeout(r, 2000));
      await nc.flush();

      const hay = new Haystack();
      for (const s of cluster.services) hay.add(`${s.name} log (stdout+stderr)`, s.logs.join('\n'));
      outputs.forEach((r, i) => {
        hay.add(`CLI run ${i} stdout`, r.stdout);
        hay.add(`CLI run ${i} stderr`, r.stderr);
      });
      events.forEach((e, i) => hay.add(`event ${i} on ${cluster.nats.subjectPrefix}.events.>`, e));
      const collections = await cluster.mongo.db.listCollections().toArray();
      for (const { name } of collections) {
        const docs = await cluster.mongo.db.collection(name).find({}).toArray();
        hay.add(`MongoDB collection ${name}`, JSON.stringify(docs));
      }
      expect(events.length).toBeGreaterThan(3);
      expect(collections.map((c) => c.name)).toEqual(expect.arrayContaining([expect.stringMatching(/audit/)]));
      const tokens = [...sessionTokens, ssoSession.accessToken, ssoSession.refreshToken];
      expect(hay.leaks({ ...C, apiToken, ssoCode, ...Object.fromEntries(tokens.map((t, i) => [`session token ${i}`, t])) })).toEqual([]);
    }, 600_000);
  });
});
