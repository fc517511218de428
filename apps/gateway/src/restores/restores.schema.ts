import { createRestoreRequestSchema, createRestoreResponseSchema, jobResponseSchema } from '@tresor/contracts';
import { errorResponse, idParam, idem, json, ok } from '../core/openapi-parts.js';

export { createRestoreRequestSchema };

/** OpenAPI paths of the restores feature. */
export const restoresPaths = {
  '/v1/restores': {
    post: {
      summary: 'Request a restore: the job, or for a sensitive source an approval request that queues it after M custodians approve (dual control)',
      parameters: [idem],
      requestBody: json(createRestoreRequestSchema, 'input'),
      responses: { 202: { description: 'job accepted, or approval request created', ...json(createRestoreResponseSchema) }, ...errorResponse },
    },
  },
  '/v1/restores/{id}': { get: { summary: 'A restore job', parameters: [idParam], responses: ok(jobResponseSchema) } },
};
