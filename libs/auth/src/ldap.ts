import { readFileSync } from 'node:fs';
import { Client } from 'ldapts';
import type { Entry } from 'ldapts';
import { UnavailableError } from '@tresor/errors';
import type { LdapConfig } from './config.js';

/** An LDAP user who proved their password, with the DNs of their groups. */
export interface LdapUser {
  readonly username: string;
  readonly dn: string;
  readonly groups: readonly string[];
}

/** RFC 4515: a value placed in a search filter cannot change the filter's structure. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Lower-case and without blanks around separators, so `CN=Admins, OU=g` matches `cn=admins,ou=g`. */
export function normalizeDn(dn: string): string {
  return dn
    .split(',')
    .map((rdn) => rdn.split('=').map((s) => s.trim()).join('='))
    .join(',')
    .toLowerCase();
}

const asList = (v: Entry[string] | undefined): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x))));

/**
 * Simple-bind authentication against a directory (ldapts): find the user by the configured filter
 * (as the service account or anonymously), bind as that DN with the password, then read groups
 * from memberOf or a group search. Returns null for an unknown user or a failed bind (wrong
 * password, locked or disabled account): the caller cannot tell which, and neither can an attacker.
 */
export class LdapAuthenticator {
  private readonly tlsOptions: { ca?: Buffer; minVersion: 'TLSv1.2' };

  constructor(private readonly config: LdapConfig) {
    this.tlsOptions = { minVersion: 'TLSv1.2', ...(config.caFile ? { ca: readFileSync(config.caFile) } : {}) };
  }

  /** Verifies a login; null when it does not hold. */
  async authenticate(username: string, password: string): Promise<LdapUser | null> {
    // An empty password would be an unauthenticated bind, which directories report as success (RFC 4513 5.1.2).
    if (!username || !password || username.length > 256) return null;
    const found = await this.lookup(username);
    if (!found) return null;
    const ok = await this.withClient(async (c) => {
      try {
        await c.bind(found.dn, password);
        return true;
      } catch {
        return false;
      }
    });
    if (!ok) return null;
    const groups = this.config.groups === 'memberOf' ? asList(found.memberOf) : await this.searchGroups(found.dn).catch((err: unknown) => this.unreachable(err));
    return { username, dn: found.dn, groups };
  }

  private lookup(username: string): Promise<Entry | null> {
    return this.withClient(async (c) => {
      if (this.config.bindDn) await c.bind(this.config.bindDn, this.config.bindPassword ?? '');
      const filter = this.config.userFilter.replaceAll('{username}', escapeFilterValue(username));
      const { searchEntries } = await c.search(this.config.userBase, { scope: 'sub', filter, attributes: ['dn', 'memberOf'], sizeLimit: 2 });
      return searchEntries.length === 1 ? searchEntries[0]! : null;
    }).catch((err: unknown) => this.unreachable(err));
  }

  /** A directory that cannot be asked is an outage (503), not a wrong password. */
  private unreachable(err: unknown): never {
    // ldapts puts the request type and the socket error on two lines; errors here are one line.
    const why = (err as Error).message.replace(/\s+/g, ' ').trim();
    throw new UnavailableError(`cannot search the directory at ${this.config.url}: ${why}`, { cause: err });
  }

  private searchGroups(dn: string): Promise<string[]> {
    return this.withClient(async (c) => {
      if (this.config.bindDn) await c.bind(this.config.bindDn, this.config.bindPassword ?? '');
      const filter = this.config.groupFilter.replaceAll('{dn}', escapeFilterValue(dn));
      const { searchEntries } = await c.search(this.config.groupBase!, { scope: 'sub', filter, attributes: ['1.1'] });
      return searchEntries.map((e) => e.dn);
    });
  }

  /** One connection per step, always unbound (also after a failed bind), so no session outlives its use. */
  private async withClient<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client({
      url: this.config.url,
      timeout: this.config.timeoutMs,
      connectTimeout: this.config.timeoutMs,
      ...(this.config.url.startsWith('ldaps:') ? { tlsOptions: this.tlsOptions } : {}),
    });
    try {
      if (this.config.startTls) await c.startTLS(this.tlsOptions);
      return await fn(c);
    } finally {
      await c.unbind().catch(() => undefined);
    }
  }
}
