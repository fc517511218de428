import { loginRequestSchema, meResponseSchema, refreshRequestSchema, sessionResponseSchema } from '@tresor/contracts';
import { errorResponse, json, ok } from '../core/openapi-parts.js';

export { loginRequestSchema, refreshRequestSchema };

/** OpenAPI paths of authentication. */
export const authPaths = {
  '/v1/auth/login': { post: { summary: 'Log in (LDAP or break-glass); returns an access and a refresh token', security: [], requestBody: json(loginRequestSchema, 'input'), responses: ok(sessionResponseSchema) } },
  '/v1/auth/refresh': { post: { summary: 'Exchange a refresh token (once) for a new pair', security: [], requestBody: json(refreshRequestSchema, 'input'), responses: ok(sessionResponseSchema) } },
  '/v1/auth/logout': { post: { summary: 'End this session at once', responses: { 204: { description: 'logged out' }, ...errorResponse } } },
  '/v1/auth/me': { get: { summary: 'Who am I: roles, tenants, permissions', responses: ok(meResponseSchema) } },
};
