import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoDatabase, redisScope } from '../../../test/support/infra.js';
import type { MongoScope, RedisScope } from '../../../test/support/infra.js';
import { MongoApiTokenStore } from './api-tokens.js';
import { PasswordLogin } from './auth.service.js';
import { BreakGlassAuthenticator, hashBreakGlassPassword } from './break-glass.js';
import { parseAuthConfig } from './config.js';
import type { Identity } from './identity.js';
import { LoginThrottle } from './login-throttle.js';
import { PERMISSIONS, ROLE_PERMISSIONS, ROLES, rolesAllow } from './roles.js';
import { RevocationList, SessionService, sessionKeys } from './sessions.js';

const ada: Identity = { subject: 'ldap:ada', name: 'ada', kind: 'ldap', roles: ['admin'], tenants: ['*'] };

describe('sessions, throttle, API tokens and break-glass (Redis, MongoDB)', () => {
  let redis: RedisScope;
  let mongo: MongoScope;
  beforeAll(async () => {
    redis = await redisScope();
    mongo = await mongoDatabase();
  });
  afterAll(async () => {
    await redis.cleanup();
    await mongo.cleanup();
  });

  const sessions = async (keys = sessionKeys()) => new SessionService(keys, new RevocationList(await redis.client(), mongo.db), { issuer: 'test', accessTtlSeconds: 60, refreshTtlSeconds: 600 });

  it('issues EdDSA access tokens that verify, and ends the session at once on revocation', async () => {
    const s = await sessions();
    const t = await s.issue(ada);
    expect(JSON.parse(Buffer.from(t.accessToken.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg: 'EdDSA' });
    const who = await s.verifyAccess(t.accessToken);
    expect(who).toMatchObject(ada);
    await s.revoke(who.sid);
    await expect(s.verifyAccess(t.accessToken)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(s.refresh(t.refreshToken)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('rotates refresh tokens and revokes the session when one is replayed', async () => {
    const s = await sessions();
    const first = await s.issue(ada);
    const second = await s.refresh(first.refreshToken);
    expect((await s.verifyAccess(second.accessToken)).subject).toBe('ldap:ada');
    await expect(s.verifyAccess(first.refreshToken)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(s.refresh(first.refreshToken)).rejects.toThrow(/already used/);
    await expect(s.verifyAccess(second.accessToken)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('keeps a logged-out session out, and a used refresh token used, after Redis loses its data', async () => {
    const s = await sessions();
    const out = await s.issue(ada);
    await s.revoke((await s.verifyAccess(out.accessToken)).sid);
    const live = await s.issue(ada);
    const rotated = await s.refresh(live.refreshToken);
    // What a FLUSHALL or a restart without persistence does to this list's keys.
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 2 });
    const keys = await admin.keys(`${redis.keyPrefix}*`);
    expect(keys.some((k) => k.endsWith('revocations-loaded'))).toBe(true);
    await admin.del(...keys);
    admin.disconnect();
    await expect(s.verifyAccess(out.accessToken)).rejects.toThrow(/logged out or revoked/);
    await expect(s.refresh(out.refreshToken)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await s.verifyAccess(rotated.accessToken)).subject).toBe('ldap:ada');
    // The replayed refresh token is still known as used: the replay ends the session.
    await expect(s.refresh(live.refreshToken)).rejects.toThrow(/already used/);
    await expect(s.verifyAccess(rotated.accessToken)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses tokens signed by another key and tampered tokens', async () => {
    const mine = await sessions();
    const theirs = await sessions();
    const t = await theirs.issue(ada);
    await expect(mine.verifyAccess(t.accessToken)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const own = (await mine.issue({ ...ada, roles: ['viewer'] })).accessToken.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(own[1]!, 'base64url').toString()), roles: ['admin'] })).toString('base64url');
    await expect(mine.verifyAccess(`${own[0]}.${forged}.${own[2]}`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('locks a user out after N failures, even with the right password, and counts per address too', async () => {
    const hash = await hashBreakGlassPassword('correct horse');
    const cfg = parseAuthConfig({ breakGlass: { username: 'root', hash }, lockout: { maxFailuresPerUser: 3, maxFailuresPerIp: 5, minutes: 1 } });
    const throttle = new LoginThrottle(await redis.client(), cfg.lockout);
    const login = new PasswordLogin({ breakGlass: new BreakGlassAuthenticator(cfg.breakGlass!), throttle, groupMap: {} });
    expect((await login.login('root', 'correct horse', '10.0.0.1')).roles).toEqual(['admin']);
    for (let i = 0; i < 3; i++) await expect(login.login('root', 'wrong', '10.0.0.1')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(login.login('root', 'correct horse', '10.0.0.2')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    // Another user from the first address: two more failures reach that address's limit of five.
    for (let i = 0; i < 2; i++) await expect(login.login(`someone${i}`, 'x', '10.0.0.1')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(login.login('someone-else', 'x', '10.0.0.1')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('accepts only argon2id hashes for the break-glass account', async () => {
    expect(() => parseAuthConfig({ breakGlass: { hash: '$2b$10$abcdefghijklmnopqrstuv' } })).toThrow(/argon2id/);
    const hash = await hashBreakGlassPassword('pw');
    expect(hash.startsWith('$argon2id$')).toBe(true);
    const bg = new BreakGlassAuthenticator({ username: 'breakglass', hash });
    expect(await bg.authenticate('breakglass', 'pw')).toBe(true);
    expect(await bg.authenticate('breakglass', 'pw2')).toBe(false);
    expect(await bg.authenticate('breakglasS', 'pw')).toBe(false);
  });

  it('stores API tokens hashed; a deleted token stops working at once; an expired one too', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const store = new MongoApiTokenStore(mongo.db, () => now);
    const { token, info } = await store.create({ name: 'ci', roles: ['operator'], tenants: ['default'], ttlSeconds: 3600, createdBy: 'ldap:ada' });
    expect(token.startsWith('tresor_')).toBe(true);
    const stored = JSON.stringify(await mongo.db.collection('api_tokens').find().toArray());
    expect(stored).not.toContain(token.slice('tresor_'.length + 17));
    expect(await store.verify(token)).toEqual({ subject: `token:${info.id}`, name: 'ci', kind: 'token', roles: ['operator'], tenants: ['default'] });
    expect(await store.verify(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    expect((await store.list()).map((t) => t.id)).toContain(info.id);
    now = new Date('2026-01-01T01:00:00Z');
    expect(await store.verify(token)).toBeNull();
    now = new Date('2026-01-01T00:30:00Z');
    await store.revoke(info.id);
    expect(await store.verify(token)).toBeNull();
    await expect(store.revoke(info.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('keeps approvals with custodians: no other role may decide, every role reads health', () => {
    for (const role of ROLES) expect(rolesAllow([role], 'approvals:decide')).toBe(role === 'custodian');
    for (const role of ROLES) expect(rolesAllow([role], 'health:read')).toBe(true);
    for (const role of ROLES) for (const p of ROLE_PERMISSIONS[role]) expect(PERMISSIONS).toContain(p);
    expect(rolesAllow(['viewer'], 'backups:create')).toBe(false);
  });
});
