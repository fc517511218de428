import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError, registerSecret } from '@tresor/errors';
import { ROLES } from './roles.js';

const roleSchema = z.enum(ROLES);
const tenantSchema = z.string().regex(/^(\*|[a-z0-9][a-z0-9_-]{0,62})$/, 'a tenant name (a-z, 0-9, _ and -) or *');

/** What members of one LDAP group get. A bare role name means that role in tenant `default`. */
export const groupGrantSchema = z.union([
  roleSchema.transform((role) => ({ roles: [role], tenants: ['default'] })),
  z.strictObject({ roles: z.array(roleSchema).min(1), tenants: z.array(tenantSchema).min(1).default(['default']) }),
]);

export const ldapConfigSchema = z.strictObject({
  /** `ldaps://host:636` or `ldap://host:389` (then set startTls unless on a trusted loopback). */
  url: z.string().regex(/^ldaps?:\/\//, 'an ldap:// or ldaps:// URL'),
  startTls: z.boolean().default(false),
  /** PEM file of the CA that signed the directory's certificate (default: the system's CAs). */
  caFile: z.string().optional(),
  /** Service account used to look users up; anonymous search when absent. */
  bindDn: z.string().optional(),
  bindPassword: z.string().optional(),
  userBase: z.string().min(1),
  /** `{username}` is replaced by the RFC 4515-escaped login name. */
  userFilter: z.string().includes('{username}').default('(&(objectClass=inetOrgPerson)(uid={username}))'),
  /** memberOf attribute of the user (overlay), or a search for groups whose member is the user's DN. */
  groups: z.enum(['memberOf', 'search']).default('memberOf'),
  groupBase: z.string().optional(),
  /** `{dn}` is replaced by the escaped user DN. */
  groupFilter: z.string().includes('{dn}').default('(&(objectClass=groupOfNames)(member={dn}))'),
  timeoutMs: z.number().int().min(100).default(5000),
});
export type LdapConfig = z.infer<typeof ldapConfigSchema>;

export const authConfigSchema = z.strictObject({
  /** PKCS#8 PEM Ed25519 private key signing session tokens; every gateway replica needs the same one. */
  signingKeyPem: z.string().optional(),
  issuer: z.string().default('tresor-gateway'),
  accessTtlSeconds: z.number().int().min(30).max(3600).default(900),
  refreshTtlSeconds: z.number().int().min(60).max(7 * 86400).default(8 * 3600),
  ldap: ldapConfigSchema.optional(),
  /** OpenID Connect single sign-on (authorization code + PKCE, `tresor login --sso`). */
  oidc: z
    .strictObject({
      issuer: z.url(),
      clientId: z.string().min(1),
      /** Absent for a public client (PKCE only). */
      clientSecret: z.string().optional(),
      scope: z.string().default('openid profile groups'),
      /** Claim holding the user's groups, matched against the group map. */
      groupsClaim: z.string().default('groups'),
      /** Exact redirect URIs of web clients (the console's `https://<gateway>/callback`), besides the CLI's loopback ones. */
      redirectUris: z.array(z.url({ protocol: /^https?$/ })).default([]),
    })
    .optional(),
  /** LDAP group DN -> roles and tenants. Users in no mapped group cannot log in. */
  groupMap: z.record(z.string(), groupGrantSchema).default({}),
  breakGlass: z
    .strictObject({
      username: z.string().min(1).default('breakglass'),
      /** PHC string of argon2id (`$argon2id$v=19$...`); other algorithms are refused. */
      hash: z.string().startsWith('$argon2id$', 'an argon2id PHC hash ($argon2id$...)'),
    })
    .optional(),
  lockout: z
    .strictObject({
      /** Failed logins of one user, within `minutes`, before that user is locked out for `minutes`. */
      maxFailuresPerUser: z.number().int().min(1).default(5),
      /** Failed logins from one address (any user) before that address is locked out. */
      maxFailuresPerIp: z.number().int().min(1).default(50),
      minutes: z.number().int().min(1).default(15),
    })
    .default({ maxFailuresPerUser: 5, maxFailuresPerIp: 50, minutes: 15 }),
});
export type AuthConfig = z.infer<typeof authConfigSchema>;

const bool = (v: string | undefined): boolean | undefined => (v === undefined ? undefined : ['1', 'true', 'yes'].includes(v.toLowerCase()));
const num = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));
const fileOr = (value: string | undefined, file: string | undefined): string | undefined => value ?? (file ? readFileSync(file, 'utf8').trim() : undefined);

/**
 * Reads the TRESOR_AUTH_* and TRESOR_LDAP_* variables (documented in docs/cluster.md). A bad
 * value stops the gateway with one line naming the variable, never echoing a secret.
 */
export function authConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  let groupMap: unknown = {};
  try {
    groupMap = env.TRESOR_AUTH_GROUP_MAP ? JSON.parse(env.TRESOR_AUTH_GROUP_MAP) : {};
  } catch {
    throw new UsageError('configuration: TRESOR_AUTH_GROUP_MAP: not JSON (want {"<group DN>": "admin" | {"roles": [...], "tenants": [...]}})');
  }
  const bgHash = fileOr(env.TRESOR_AUTH_BREAKGLASS_HASH, env.TRESOR_AUTH_BREAKGLASS_HASH_FILE);
  const raw = {
    signingKeyPem: fileOr(undefined, env.TRESOR_AUTH_SIGNING_KEY_FILE),
    issuer: env.TRESOR_AUTH_ISSUER,
    accessTtlSeconds: num(env.TRESOR_AUTH_ACCESS_TTL_S),
    refreshTtlSeconds: num(env.TRESOR_AUTH_REFRESH_TTL_S),
    ldap: env.TRESOR_LDAP_URL
      ? {
          url: env.TRESOR_LDAP_URL,
          startTls: bool(env.TRESOR_LDAP_STARTTLS),
          caFile: env.TRESOR_LDAP_CA_FILE,
          bindDn: env.TRESOR_LDAP_BIND_DN,
          bindPassword: fileOr(env.TRESOR_LDAP_BIND_PASSWORD, env.TRESOR_LDAP_BIND_PASSWORD_FILE),
          userBase: env.TRESOR_LDAP_USER_BASE,
          userFilter: env.TRESOR_LDAP_USER_FILTER,
          groups: env.TRESOR_LDAP_GROUPS,
          groupBase: env.TRESOR_LDAP_GROUP_BASE,
          groupFilter: env.TRESOR_LDAP_GROUP_FILTER,
          timeoutMs: num(env.TRESOR_LDAP_TIMEOUT_MS),
        }
      : undefined,
    oidc: env.TRESOR_OIDC_ISSUER
      ? {
          issuer: env.TRESOR_OIDC_ISSUER,
          clientId: env.TRESOR_OIDC_CLIENT_ID,
          clientSecret: fileOr(env.TRESOR_OIDC_CLIENT_SECRET, env.TRESOR_OIDC_CLIENT_SECRET_FILE),
          scope: env.TRESOR_OIDC_SCOPE,
          groupsClaim: env.TRESOR_OIDC_GROUPS_CLAIM,
          redirectUris: env.TRESOR_OIDC_REDIRECT_URIS?.split(',').map((u) => u.trim()).filter(Boolean),
        }
      : undefined,
    groupMap,
    breakGlass: bgHash ? { username: env.TRESOR_AUTH_BREAKGLASS_USER, hash: bgHash } : undefined,
    lockout: {
      maxFailuresPerUser: num(env.TRESOR_AUTH_LOCKOUT_MAX_FAILURES),
      maxFailuresPerIp: num(env.TRESOR_AUTH_LOCKOUT_MAX_FAILURES_PER_IP),
      minutes: num(env.TRESOR_AUTH_LOCKOUT_MINUTES),
    },
  };
  return parseAuthConfig(stripUndefined(raw));
}

/** Validates an auth configuration object; the first issue becomes a UsageError naming the field. */
export function parseAuthConfig(raw: unknown): AuthConfig {
  const r = authConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UsageError(`auth configuration: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const c = r.data;
  if (c.ldap?.groups === 'search' && !c.ldap.groupBase) throw new UsageError('auth configuration: ldap.groupBase: required when ldap.groups is search');
  // Read from files as often as from the environment: register them so no log line or error can carry them.
  for (const secret of [c.ldap?.bindPassword, c.oidc?.clientSecret, c.signingKeyPem]) registerSecret(secret);
  return c;
}

function stripUndefined(v: unknown): unknown {
  if (Array.isArray(v) || v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, stripUndefined(x)]));
}
