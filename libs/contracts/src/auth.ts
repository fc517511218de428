import { z } from 'zod';
import { isoTimeSchema, tenantSchema } from './records.js';

/** Bodies of the gateway's authentication and API-token routes (v1). */

export const roleSchema = z.enum(['admin', 'operator', 'auditor', 'custodian', 'viewer']);
export type RoleName = z.infer<typeof roleSchema>;

export const loginRequestSchema = z.strictObject({
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(1024),
});
export type LoginRequest = z.infer<typeof loginRequestSchema>;

export const sessionResponseSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal('Bearer'),
  /** Seconds the access token is valid; refresh before. */
  expiresIn: z.number().int(),
});
export type SessionResponse = z.infer<typeof sessionResponseSchema>;

export const refreshRequestSchema = z.strictObject({ refreshToken: z.string().min(1) });

export const meResponseSchema = z.object({
  subject: z.string(),
  name: z.string(),
  kind: z.enum(['ldap', 'local', 'token', 'oidc']),
  roles: z.array(roleSchema),
  tenants: z.array(z.string()),
  permissions: z.array(z.string()),
});
export type MeResponse = z.infer<typeof meResponseSchema>;

/** GET /v1/auth/oidc: where `tresor login --sso` sends the browser. */
export const oidcSettingsResponseSchema = z.object({ authorizationEndpoint: z.string(), clientId: z.string(), scope: z.string() });
export type OidcSettingsResponse = z.infer<typeof oidcSettingsResponseSchema>;

/** POST /v1/auth/oidc: the authorization code the browser brought back, with its PKCE verifier. */
export const oidcRedeemRequestSchema = z.strictObject({
  code: z.string().min(1).max(4096),
  codeVerifier: z.string().min(43).max(128),
  redirectUri: z.string().min(1).max(2048),
});

export const createApiTokenRequestSchema = z.strictObject({
  name: z.string().min(1).max(100),
  roles: z.array(roleSchema).min(1),
  /** Default: the creator's tenants. `*` (all) only from a creator who has all. */
  tenants: z.array(z.union([tenantSchema, z.literal('*')])).min(1).optional(),
  /** Lifetime in seconds: 1 minute to 1 year, default 90 days. */
  ttlSeconds: z.number().int().min(60).max(366 * 86400).default(90 * 86400),
});
export type CreateApiTokenRequest = z.input<typeof createApiTokenRequestSchema>;

export const apiTokenInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  roles: z.array(roleSchema),
  tenants: z.array(z.string()),
  createdBy: z.string(),
  createdAt: isoTimeSchema,
  expiresAt: isoTimeSchema,
});
export type ApiTokenInfoDto = z.infer<typeof apiTokenInfoSchema>;

/** The token itself is in this response only: it is stored hashed. */
export const createApiTokenResponseSchema = z.object({ token: z.string(), info: apiTokenInfoSchema });
export const listApiTokensResponseSchema = z.object({ tokens: z.array(apiTokenInfoSchema) });
