import { fsckRequestSchema, fsckResponseSchema } from '@tresor/contracts';
import { errorResponse, json } from '../core/openapi-parts.js';

/** OpenAPI paths of the cluster's fsck. */
export const fsckPaths = {
  '/v1/fsck': {
    post: {
      summary: 'Check the catalog against the storage (monitoring service); with repair, delete orphan objects older than olderThanSeconds. Admins of every tenant only (403 for an admin of some tenants: the report covers them all); answers when done; report.ok false when anything was found',
      requestBody: json(fsckRequestSchema, 'input'),
      responses: { 200: { description: 'the fsck report (findings, and with repair what was done with each orphan)', ...json(fsckResponseSchema) }, ...errorResponse },
    },
  },
};
