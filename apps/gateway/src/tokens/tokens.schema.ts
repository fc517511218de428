import { createApiTokenRequestSchema, createApiTokenResponseSchema, listApiTokensResponseSchema } from '@tresor/contracts';
import { errorResponse, idParam, json, ok } from '../core/openapi-parts.js';

export { createApiTokenRequestSchema };

/** OpenAPI paths of API tokens. */
export const tokensPaths = {
  '/v1/tokens': {
    post: { summary: 'Create an API token (shown once)', requestBody: json(createApiTokenRequestSchema, 'input'), responses: { 201: { description: 'created', ...json(createApiTokenResponseSchema) }, ...errorResponse } },
    get: { summary: 'List API tokens (never their secrets)', responses: ok(listApiTokensResponseSchema) },
  },
  '/v1/tokens/{id}': { delete: { summary: 'Revoke (delete) an API token: it stops working at once', parameters: [idParam], responses: { 204: { description: 'revoked' }, ...errorResponse } } },
};
