import { createRestoreRequestSchema, jobResponseSchema } from '@tresor/contracts';
import { accepted, idParam, idem, json, ok } from '../core/openapi-parts.js';

export { createRestoreRequestSchema };

/** OpenAPI paths of the restores feature. */
export const restoresPaths = {
  '/v1/restores': { post: { summary: 'Request a restore', parameters: [idem], requestBody: json(createRestoreRequestSchema, 'input'), responses: accepted } },
  '/v1/restores/{id}': { get: { summary: 'A restore job', parameters: [idParam], responses: ok(jobResponseSchema) } },
};
