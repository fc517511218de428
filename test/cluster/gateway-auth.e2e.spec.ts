import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolesAllow } from '@tresor/auth';
import type { Role } from '@tresor/auth';
import { connectMongoCatalog } from '@tresor/catalog';
import { declaredRoutes } from '../../apps/gateway/src/routes.js';
import { ldapBindEnv, ldapFixture } from '../support/infra.js';
import { browseAuthorization, startOidcProvider } from '../support/oidc.js';
import type { TestOidcProvider } from '../support/oidc.js';
import { TestCluster } from './cluster.js';

const fx = ldapFixture();
const USERS: Record<Role, { uid: string; password: string }> = {
  admin: fx.users.admin,
  operator: fx.users.operator,
  auditor: fx.users.auditor,
  custodian: fx.users.custodians[0],
  viewer: fx.users.viewer,
};

describe('gateway authentication and authorization (LDAP, Redis, MongoDB)', () => {
  let cluster: TestCluster;
  let server: string;
  let op: TestOidcProvider;

  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (method !== 'GET') headers['content-type'] = 'application/json';
    const r = await fetch(`${server}${path}`, { method, headers, ...(method !== 'GET' ? { body: JSON.stringify(body ?? {}) } : {}) });
    // GET /v1/events never ends: its status is the answer.
    if (r.headers.get('content-type')?.startsWith('text/event-stream')) {
      await r.body?.cancel();
      return { status: r.status, body: undefined };
    }
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };
  const login = async (uid: string, password: string) => {
    const r = await call('POST', '/v1/auth/login', undefined, { username: uid, password });
    if (r.status !== 200) throw new Error(`login ${uid}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as { accessToken: string; refreshToken: string };
  };

  beforeAll(async () => {
    cluster = await TestCluster.create();
    op = await startOidcProvider({ 'sam.sso': ['tresor-auditors'] });
    const gateway = await cluster.start('gateway', {
      ...ldapBindEnv(),
      TRESOR_AUTH_GROUP_MAP: JSON.stringify({
        [fx.groups.admin]: { roles: ['admin'], tenants: ['*'] },
        [fx.groups.operator]: 'operator',
        [fx.groups.auditor]: { roles: ['auditor'], tenants: ['default', 'payments'] },
        [fx.groups.custodian]: 'custodian',
        [fx.groups.viewer]: 'viewer',
        // Group names as the OpenID provider's groups claim carries them.
        'tresor-auditors': { roles: ['auditor'], tenants: ['payments'] },
      }),
      TRESOR_OIDC_ISSUER: op.issuer,
      TRESOR_OIDC_CLIENT_ID: op.clientId,
      TRESOR_AUTH_LOCKOUT_MAX_FAILURES: '3',
      TRESOR_AUTH_LOCKOUT_MINUTES: '1',
    });
    server = gateway.http;
  });
  afterAll(async () => {
    await cluster?.stop();
    await op?.close();
  });

  const routes = declaredRoutes().filter((r) => r.access?.kind !== 'public');
  const concrete = (path: string) => path.replace(/:\w+/g, 'no-such-id');

  it('answers 401 to every non-public route without a token, with a malformed one or with a forged one', async () => {
    const forged = `${(await login(USERS.viewer.uid, USERS.viewer.password)).accessToken.slice(0, -4)}AAAA`;
    const wrong: string[] = [];
    for (const r of routes) {
      for (const token of [undefined, 'not-a-jwt', forged, 'tresor_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
        const { status } = await call(r.method, concrete(r.path), token);
        if (status !== 401) wrong.push(`${r.method} ${r.path} with ${token?.slice(0, 10)}: ${status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('tries every role against every route: allowed ones pass the guard, the others get 403', async () => {
    const tokens = Object.fromEntries(await Promise.all(Object.entries(USERS).map(async ([role, u]) => [role, (await login(u.uid, u.password)).accessToken]))) as Record<Role, string>;
    const wrong: string[] = [];
    let tried = 0;
    for (const r of routes) {
      for (const role of Object.keys(USERS) as Role[]) {
        const allowed = r.access?.kind === 'authenticated' || (r.access?.kind === 'permission' && rolesAllow([role], r.access.permission));
        // Logging out ends the session: that route gets a session of its own.
        const token = r.path === '/v1/auth/logout' ? (await login(USERS[role].uid, USERS[role].password)).accessToken : tokens[role];
        const { status, body } = await call(r.method, concrete(r.path), token);
        tried++;
        if (allowed ? status === 401 || status === 403 : status !== 403) wrong.push(`${role} ${r.method} ${r.path}: ${status} ${JSON.stringify(body)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(tried).toBe(routes.length * 5);
    // Dual control's routes are among those tried: only custodians pass the guard on approve and reject.
    const approvals = routes.filter((r) => r.path.startsWith('/v1/approvals'));
    expect(approvals.map((r) => `${r.method} ${r.path}`).sort()).toEqual(['GET /v1/approvals', 'GET /v1/approvals/:id', 'POST /v1/approvals/:id/approve', 'POST /v1/approvals/:id/reject']);
    for (const r of approvals.filter((x) => x.method === 'POST')) expect((Object.keys(USERS) as Role[]).filter((role) => r.access?.kind === 'permission' && rolesAllow([role], r.access.permission))).toEqual(['custodian']);
  });

  it('refuses the locked LDAP user with the same answer as a wrong password', async () => {
    const locked = await call('POST', '/v1/auth/login', undefined, { username: fx.users.locked.uid, password: fx.users.locked.password });
    const wrongPw = await call('POST', '/v1/auth/login', undefined, { username: fx.users.viewer.uid, password: 'not-the-password' });
    expect(locked.status).toBe(401);
    expect(locked.body).toEqual(wrongPw.body);
  });

  it('locks a user out after 3 failed logins, even with the right password', async () => {
    const u = fx.users.requester;
    for (let i = 0; i < 3; i++) expect((await call('POST', '/v1/auth/login', undefined, { username: u.uid, password: `wrong-${i}` })).status).toBe(401);
    const r = await call('POST', '/v1/auth/login', undefined, { username: u.uid, password: u.password });
    expect(r.status).toBe(429);
    expect(r.body).toMatchObject({ error: { code: 'RATE_LIMITED' } });
  });

  it('logout revokes the session at once; its refresh token no longer works', async () => {
    const s = await login(USERS.viewer.uid, USERS.viewer.password);
    expect((await call('GET', '/v1/auth/me', s.accessToken)).body).toMatchObject({ subject: `ldap:${USERS.viewer.uid}`, roles: ['viewer'], tenants: ['default'] });
    expect((await call('POST', '/v1/auth/logout', s.accessToken)).status).toBe(204);
    expect((await call('GET', '/v1/auth/me', s.accessToken)).status).toBe(401);
    expect((await call('POST', '/v1/auth/refresh', undefined, { refreshToken: s.refreshToken })).status).toBe(401);
  });

  it('refresh rotates the pair; the old refresh token works once only', async () => {
    const s = await login(USERS.auditor.uid, USERS.auditor.password);
    const r = await call('POST', '/v1/auth/refresh', undefined, { refreshToken: s.refreshToken });
    expect(r.status).toBe(200);
    const fresh = r.body as { accessToken: string };
    expect((await call('GET', '/v1/jobs', fresh.accessToken)).status).toBe(200);
    expect((await call('POST', '/v1/auth/refresh', undefined, { refreshToken: s.refreshToken })).status).toBe(401);
  });

  it('an API token works with its roles only, and stops working at once when deleted', async () => {
    const admin = (await login(USERS.admin.uid, USERS.admin.password)).accessToken;
    const created = await call('POST', '/v1/tokens', admin, { name: 'ci', roles: ['operator'], ttlSeconds: 3600 });
    expect(created.status).toBe(201);
    const { token, info } = created.body as { token: string; info: { id: string; tenants: string[] } };
    expect(info.tenants).toEqual(['*']);
    const listed = await call('GET', '/v1/tokens', admin);
    expect(JSON.stringify(listed.body)).not.toContain(token.slice('tresor_'.length + 17));
    expect((await call('GET', '/v1/backups', token)).status).toBe(200);
    expect((await call('GET', '/v1/tokens', token)).status).toBe(403);
    expect((await call('DELETE', `/v1/tokens/${info.id}`, admin)).status).toBe(204);
    expect((await call('GET', '/v1/backups', token)).status).toBe(401);
    // An operator-tenant admin cannot mint a token for a tenant they lack: the auditor cannot mint at all.
    const auditor = (await login(USERS.auditor.uid, USERS.auditor.password)).accessToken;
    expect((await call('POST', '/v1/tokens', auditor, { name: 'x', roles: ['viewer'] })).status).toBe(403);
  });

  it('shows and lets act on sources of granted tenants only', async () => {
    const mongo = await connectMongoCatalog(cluster.mongoUrl, cluster.mongo.dbName);
    try {
      await mongo.catalog.ensureSource('filesystem', '/data/payments');
      await mongo.catalog.ensureSource('filesystem', '/data/shared');
    } finally {
      await mongo.close();
    }
    const admin = (await login(USERS.admin.uid, USERS.admin.password)).accessToken;
    const operator = (await login(USERS.operator.uid, USERS.operator.password)).accessToken;
    const auditor = (await login(USERS.auditor.uid, USERS.auditor.password)).accessToken;
    const sched = await call('POST', '/v1/schedules', admin, { kind: 'once', at: '2099-01-01T00:00:00Z', backup: { source: { kind: 'filesystem', location: '/data/payments', tenant: 'payments' } } });
    expect(sched.status).toBe(201);
    const id = (sched.body as { schedule: { id: string } }).schedule.id;

    const sources = async (t: string) => ((await call('GET', '/v1/sources', t)).body as { sources: { location: string; tenant: string }[] }).sources.map((s) => `${s.location}@${s.tenant}`).sort();
    expect(await sources(operator)).toEqual(['/data/shared@default']);
    expect(await sources(auditor)).toEqual(['/data/payments@payments', '/data/shared@default']);
    expect((await call('GET', `/v1/schedules/${id}`, operator)).status).toBe(404);
    expect(((await call('GET', '/v1/schedules', operator)).body as { schedules: unknown[] }).schedules).toEqual([]);
    expect((await call('GET', `/v1/schedules/${id}`, auditor)).status).toBe(200);
    expect((await call('DELETE', `/v1/schedules/${id}`, operator)).status).toBe(404);
    // A source bound to a tenant stays there, and an operator of `default` cannot back it up.
    expect((await call('POST', '/v1/backups', operator, { source: { kind: 'filesystem', location: '/data/payments' } })).status).toBe(403);
    expect((await call('POST', '/v1/backups', operator, { source: { kind: 'filesystem', location: '/data/payments', tenant: 'payments' } })).status).toBe(403);
    expect((await call('POST', '/v1/backups', admin, { source: { kind: 'filesystem', location: '/data/payments', tenant: 'default' } })).status).toBe(409);
    // `latest` without a source could be another tenant's backup: a tenant-limited caller names the source.
    expect((await call('POST', '/v1/restores', operator, { backup: 'latest', target: '/tmp/r' })).body).toMatchObject({ error: { code: 'USAGE', message: expect.stringMatching(/give the source/) } });
    expect((await call('GET', '/v1/backups/latest', operator)).status).toBe(400);
    expect((await call('GET', '/v1/backups/latest', admin)).status).toBe(404);
    expect((await call('POST', '/v1/restores', operator, { backup: 'latest', source: '/data/payments', target: '/tmp/r' })).status).toBe(404);
    // The console's previews read another tenant's backups no more than the routes they preview.
    const hidden = { error: { code: 'NOT_FOUND', message: 'source /data/payments not found' } };
    expect((await call('GET', '/v1/restores/preview?source=%2Fdata%2Fpayments', operator)).body).toEqual(hidden);
    expect((await call('GET', '/v1/restores/preview?source=%2Fdata%2Fpayments', admin)).body).not.toEqual(hidden);
    const policy = { keepLast: 1 };
    expect((await call('POST', '/v1/retention/preview', operator, { source: '/data/payments', policy })).body).toEqual(hidden);
    expect((await call('POST', '/v1/retention/preview', auditor, { source: '/data/payments', policy })).body).toEqual({ source: '/data/payments', keep: [], remove: [] });
  });

  it('`tresor login`, `tokens create|list|revoke` and `logout` through the CLI, with the session in a 0600 file', async () => {
    const env = { TRESOR_SERVER: server, TRESOR_TOKEN: '', PW: USERS.admin.password };
    const li = await cluster.cli(['login', '--username', USERS.admin.uid, '--password-env', 'PW'], env);
    expect(li.stderr).toBe('');
    expect(li.code).toBe(0);
    expect(li.stdout).toContain(`as ${USERS.admin.uid} (admin`);
    expect((await stat(join(cluster.dir, '.config/tresor/credentials.json'))).mode & 0o777).toBe(0o600);
    const created = await cluster.cli(['tokens', 'create', '--name', 'nightly', '--role', 'viewer', '--ttl', '1d', '--json'], env);
    expect(created.code).toBe(0);
    const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
    const asToken = await cluster.cli(['list', '--json'], { TRESOR_SERVER: server, TRESOR_TOKEN: token });
    expect(asToken.code).toBe(0);
    expect((await cluster.cli(['tokens', 'list'], env)).stdout).toContain('nightly');
    expect((await cluster.cli(['tokens', 'revoke', id], env)).code).toBe(0);
    const revoked = await cluster.cli(['list'], { TRESOR_SERVER: server, TRESOR_TOKEN: token });
    expect(revoked.code).toBe(9);
    expect((await cluster.cli(['logout'], env)).code).toBe(0);
    const after = await cluster.cli(['list'], env);
    expect(after.code).toBe(9);
    expect(after.stderr).toMatch(/authentication required/);
  });

  it('`tresor login --sso`: authorization code + PKCE through a browser, roles from the groups claim', async () => {
    const child = spawn(process.execPath, [resolve(import.meta.dirname, '../../bin/tresor.mjs'), 'login', '--sso'], {
      env: { PATH: process.env.PATH, HOME: join(cluster.dir, 'sso-home'), TRESOR_SERVER: server },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
    const link = await new Promise<string>((r) => createInterface({ input: child.stderr }).on('line', (l) => l.startsWith('http') && r(l)));
    const back = await browseAuthorization(link, 'sam.sso');
    expect(back.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(back)).status).toBe(200);
    expect(await exited).toBe(0);
    expect(stdout).toContain('as sam.sso (auditor; tenants payments)');
    const list = await cluster.cli(['list', '--json'], { HOME: join(cluster.dir, 'sso-home'), TRESOR_SERVER: server, TRESOR_TOKEN: '' });
    expect(list.code).toBe(0);
    // Without single sign-on configured the route says so; the password login stays as it was.
    expect((await call('POST', '/v1/auth/oidc', undefined, { code: 'x', codeVerifier: 'v'.repeat(43), redirectUri: 'https://evil.example/' })).status).toBe(401);
  });
});
