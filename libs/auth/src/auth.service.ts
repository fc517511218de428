import { UnauthenticatedError, registerSecret } from '@tresor/errors';
import type { AuthConfig } from './config.js';
import type { BreakGlassAuthenticator } from './break-glass.js';
import type { Identity } from './identity.js';
import type { LdapAuthenticator } from './ldap.js';
import { normalizeDn } from './ldap.js';
import type { LoginThrottle } from './login-throttle.js';
import { ALL_TENANTS, ROLES } from './roles.js';
import type { Role } from './roles.js';

/** Roles and tenants of an LDAP user from the configured group map (no mapped group: no roles). */
export function grantsOf(groups: readonly string[], groupMap: AuthConfig['groupMap']): { roles: Role[]; tenants: string[] } {
  const mine = new Set(groups.map(normalizeDn));
  const roles = new Set<Role>();
  const tenants = new Set<string>();
  for (const [group, grant] of Object.entries(groupMap)) {
    if (!mine.has(normalizeDn(group))) continue;
    grant.roles.forEach((r) => roles.add(r));
    grant.tenants.forEach((t) => tenants.add(t));
  }
  return { roles: ROLES.filter((r) => roles.has(r)), tenants: tenants.has(ALL_TENANTS) ? [ALL_TENANTS] : [...tenants].sort() };
}

const FAILED = 'invalid username or password';

/**
 * Password logins: the break-glass account or LDAP, behind the failed-login throttle. Every
 * failure gives the same message, whether the user is unknown, locked in LDAP, has no mapped
 * group or typed a wrong password.
 */
export class PasswordLogin {
  constructor(
    private readonly deps: {
      ldap?: LdapAuthenticator;
      breakGlass?: BreakGlassAuthenticator;
      throttle: LoginThrottle;
      groupMap: AuthConfig['groupMap'];
    },
  ) {}

  /** The identity for a username and password from a client address; throws Unauthenticated or RateLimited. */
  async login(username: string, password: string, ip: string): Promise<Identity> {
    // A directory or driver error may quote what it was given: the password is replaced in anything this process writes.
    registerSecret(password);
    await this.deps.throttle.check(username, ip);
    const identity = await this.authenticate(username, password);
    if (!identity) {
      await this.deps.throttle.failed(username, ip);
      throw new UnauthenticatedError(FAILED);
    }
    await this.deps.throttle.succeeded(username);
    return identity;
  }

  private async authenticate(username: string, password: string): Promise<Identity | null> {
    const bg = this.deps.breakGlass;
    if (bg?.handles(username)) {
      return (await bg.authenticate(username, password)) ? { subject: `local:${username}`, name: username, kind: 'local', roles: ['admin'], tenants: [ALL_TENANTS] } : null;
    }
    const user = await this.deps.ldap?.authenticate(username, password);
    if (!user) return null;
    const { roles, tenants } = grantsOf(user.groups, this.deps.groupMap);
    if (roles.length === 0) return null;
    return { subject: `ldap:${username}`, name: username, kind: 'ldap', roles, tenants };
  }
}
