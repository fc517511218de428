import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'ldapts';
import { ldapFixture, ldapSubtree, redisScope } from '../../../test/support/infra.js';
import type { LdapSubtree, RedisScope } from '../../../test/support/infra.js';
import { PasswordLogin, grantsOf } from './auth.service.js';
import { parseAuthConfig } from './config.js';
import { LdapAuthenticator, escapeFilterValue } from './ldap.js';
import { LoginThrottle } from './login-throttle.js';

const fx = ldapFixture();
const config = (over: Record<string, unknown> = {}) =>
  parseAuthConfig({
    ldap: { url: fx.url, bindDn: fx.adminDn, bindPassword: fx.adminPassword, userBase: fx.peopleDn, groupBase: fx.groupsDn, ...over },
    groupMap: {
      [fx.groups.admin]: { roles: ['admin'], tenants: ['*'] },
      [fx.groups.operator]: 'operator',
      [fx.groups.auditor]: { roles: ['auditor'], tenants: ['default', 'payments'] },
      [fx.groups.custodian]: 'custodian',
      [fx.groups.viewer]: 'viewer',
    },
  });

describe('LdapAuthenticator (slapd, plain ldap:// on loopback)', () => {
  let redis: RedisScope;
  beforeAll(async () => {
    redis = await redisScope();
  });
  afterAll(() => redis.cleanup());

  it('maps every fixture user to the roles of their groups', async () => {
    const c = config();
    const login = new PasswordLogin({ ldap: new LdapAuthenticator(c.ldap!), throttle: new LoginThrottle(await redis.client(), c.lockout), groupMap: c.groupMap });
    const u = fx.users;
    const cases = [
      [u.admin, ['admin'], ['*']],
      [u.operator, ['operator'], ['default']],
      [u.auditor, ['auditor'], ['default', 'payments']],
      [u.custodians[0], ['custodian'], ['default']],
      [u.viewer, ['viewer'], ['default']],
    ] as const;
    for (const [user, roles, tenants] of cases) {
      const id = await login.login(user.uid, user.password, '127.0.0.1');
      expect(id).toEqual({ subject: `ldap:${user.uid}`, name: user.uid, kind: 'ldap', roles, tenants });
    }
  });

  it('reads groups by a group search as well as from memberOf', async () => {
    const ldap = new LdapAuthenticator(config({ groups: 'search' }).ldap!);
    const user = await ldap.authenticate(fx.users.custodians[1].uid, fx.users.custodians[1].password);
    expect(user?.groups.map((g) => g.toLowerCase())).toEqual([fx.groups.custodian.toLowerCase()]);
  });

  it('refuses the locked user, a wrong password, an empty password, an unknown user and filter injection', async () => {
    const ldap = new LdapAuthenticator(config().ldap!);
    expect(await ldap.authenticate(fx.users.locked.uid, fx.users.locked.password)).toBeNull();
    expect(await ldap.authenticate(fx.users.operator.uid, 'wrong')).toBeNull();
    expect(await ldap.authenticate(fx.users.operator.uid, '')).toBeNull();
    expect(await ldap.authenticate('nobody.here', fx.users.operator.password)).toBeNull();
    expect(await ldap.authenticate('*', fx.users.operator.password)).toBeNull();
    expect(await ldap.authenticate('ada.admin)(uid=*', fx.users.admin.password)).toBeNull();
    expect(escapeFilterValue('a*(b)\\')).toBe('a\\2a\\28b\\29\\5c');
  });

  it('refuses a directory user in no mapped group', async () => {
    let sub: LdapSubtree | undefined;
    try {
      sub = await ldapSubtree();
      const c = new Client({ url: fx.url });
      try {
        await c.bind(fx.adminDn, fx.adminPassword);
        await c.add(`uid=nora.nogroup,${sub.dn}`, { objectClass: ['inetOrgPerson'], uid: 'nora.nogroup', cn: 'Nora', sn: 'Nogroup', userPassword: 'pw-nora-123' });
      } finally {
        await c.unbind();
      }
      const cfg = parseAuthConfig({ ...config(), ldap: { ...config().ldap!, userBase: sub.dn } });
      const ldap = new LdapAuthenticator(cfg.ldap!);
      expect((await ldap.authenticate('nora.nogroup', 'pw-nora-123'))?.groups).toEqual([]);
      const login = new PasswordLogin({ ldap, throttle: new LoginThrottle(await redis.client(), cfg.lockout), groupMap: cfg.groupMap });
      await expect(login.login('nora.nogroup', 'pw-nora-123', '127.0.0.1')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    } finally {
      await sub?.cleanup();
    }
  });

  it('reports an unreachable directory as unavailable (503), not a failed login', async () => {
    const ldap = new LdapAuthenticator(config({ url: 'ldap://127.0.0.1:1', timeoutMs: 1000 }).ldap!);
    await expect(ldap.authenticate(fx.users.admin.uid, fx.users.admin.password)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/^cannot search the directory at ldap:\/\/127\.0\.0\.1:1: /) });
  });

  it('grants the union of all mapped groups and collapses tenants to * when one grants all', () => {
    expect(grantsOf([fx.groups.viewer.toUpperCase(), fx.groups.auditor], config().groupMap)).toEqual({ roles: ['auditor', 'viewer'], tenants: ['default', 'payments'] });
    expect(grantsOf([fx.groups.admin, fx.groups.viewer], config().groupMap)).toEqual({ roles: ['admin', 'viewer'], tenants: ['*'] });
  });
});
