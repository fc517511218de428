import { loginRequestSchema, meResponseSchema, oidcRedeemRequestSchema, oidcSettingsResponseSchema, refreshRequestSchema, sessionResponseSchema } from '@tresor/contracts';
import { errorResponse, json, ok } from '../core/openapi-parts.js';

export { loginRequestSchema, oidcRedeemRequestSchema, refreshRequestSchema };

/** OpenAPI paths of authentication. */
export const authPaths = {
  '/v1/auth/login': { post: { summary: 'Log in (LDAP or break-glass); returns an access and a refresh token', security: [], requestBody: json(loginRequestSchema, 'input'), responses: ok(sessionResponseSchema) } },
  '/v1/auth/refresh': { post: { summary: 'Exchange a refresh token (once) for a new pair', security: [], requestBody: json(refreshRequestSchema, 'input'), responses: ok(sessionResponseSchema) } },
  '/v1/auth/oidc': {
    get: { summary: 'Single sign-on: the OpenID provider and client id for the authorization code + PKCE flow', security: [], responses: ok(oidcSettingsResponseSchema) },
    post: { summary: 'Single sign-on: redeem the authorization code (with its PKCE verifier) for a session', security: [], requestBody: json(oidcRedeemRequestSchema, 'input'), responses: ok(sessionResponseSchema) },
  },
  '/v1/auth/logout': { post: { summary: 'End this session at once', responses: { 204: { description: 'logged out' }, ...errorResponse } } },
  '/v1/auth/me': { get: { summary: 'Who am I: roles, tenants, permissions', responses: ok(meResponseSchema) } },
};
