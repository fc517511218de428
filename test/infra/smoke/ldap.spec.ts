import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { Client, InvalidCredentialsError } from 'ldapts';
import { ldapFixture, ldapSubtree, type LdapFixture } from '../../support/infra.js';

describe('LDAP (OpenLDAP slapd) through ldapts', () => {
  let fx: LdapFixture;
  beforeEach(() => {
    fx = ldapFixture();
  });
  const client = (): Client => new Client({ url: fx.url, timeout: 5000, connectTimeout: 3000 });

  it('binds a user and resolves roles through memberOf', async () => {
    const c = client();
    try {
      await c.bind(fx.users.operator.dn, fx.users.operator.password);
      const { searchEntries } = await c.search(fx.users.operator.dn, {
        scope: 'base',
        attributes: ['uid', 'memberOf'],
      });
      expect(searchEntries[0]?.memberOf).toBe(fx.groups.operator);
    } finally {
      await c.unbind();
    }
  });

  it('finds at least three custodians by group membership', async () => {
    const c = client();
    try {
      await c.bind(fx.users.requester.dn, fx.users.requester.password);
      const byMemberOf = await c.search(fx.peopleDn, {
        filter: `(memberOf=${fx.groups.custodian})`,
        attributes: ['uid'],
      });
      const uids = byMemberOf.searchEntries.map((e) => e.uid).sort();
      expect(uids).toEqual(fx.users.custodians.map((u) => u.uid).sort());
      expect(uids).not.toContain(fx.users.requester.uid);
      const groups = await c.search(fx.groupsDn, {
        filter: '(objectClass=groupOfNames)',
        attributes: ['cn', 'member'],
      });
      expect(groups.searchEntries.map((g) => g.cn).sort()).toEqual([
        'tresor-admins',
        'tresor-auditors',
        'tresor-custodians',
        'tresor-operators',
        'tresor-viewers',
      ]);
    } finally {
      await c.unbind();
    }
  });

  it('refuses a wrong password and the locked-out user', async () => {
    for (const [dn, pw] of [
      [fx.users.admin.dn, 'wrong-password'],
      [fx.users.locked.dn, fx.users.locked.password],
    ] as const) {
      const c = client();
      try {
        await expect(c.bind(dn, pw)).rejects.toBeInstanceOf(InvalidCredentialsError);
      } finally {
        await c.unbind();
      }
    }
  });

  describe('a subtree of its own', () => {
    it('lets a test add users and groups that memberOf tracks', async () => {
      const sub = await ldapSubtree();
      onTestFinished(() => sub.cleanup());
      const c = client();
      try {
        await c.bind(fx.adminDn, fx.adminPassword);
        const userDn = `uid=temp,${sub.dn}`;
        await c.add(userDn, {
          objectClass: 'inetOrgPerson',
          uid: 'temp',
          cn: 'Temp',
          sn: 'Temp',
          userPassword: 'pw-temp-1',
        });
        await c.add(`cn=temp-group,${sub.dn}`, {
          objectClass: 'groupOfNames',
          cn: 'temp-group',
          member: userDn,
        });
        const { searchEntries } = await c.search(userDn, { scope: 'base', attributes: ['memberOf'] });
        expect(searchEntries[0]?.memberOf).toBe(`cn=temp-group,${sub.dn}`);
      } finally {
        await c.unbind();
      }
    });
  });
});
