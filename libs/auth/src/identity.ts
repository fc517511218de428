import type { Role } from './roles.js';

/** Who is calling, as every authenticator reports it and the session token carries it. */
export interface Identity {
  /** Stable subject: `ldap:<uid>`, `local:<name>`, `oidc:<sub>` or `token:<id>`. */
  readonly subject: string;
  /** Display name for logs and audit (the login name, or the token's name). */
  readonly name: string;
  readonly kind: 'ldap' | 'local' | 'token' | 'oidc';
  readonly roles: readonly Role[];
  /** Tenants whose sources this identity may see and act on; `*` for all. */
  readonly tenants: readonly string[];
}
