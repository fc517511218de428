import { approvalResponseSchema, createRestoreRequestSchema, createRestoreResponseSchema, jobResponseSchema, restorePreviewResponseSchema } from '@tresor/contracts';
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
  '/v1/restores/preview': {
    get: {
      summary: 'Preview a restore: the entries its include/exclude patterns select in the backup it means (id, latest, or at a point in time of a source), with totals; nothing is restored',
      parameters: [
        { name: 'backup', in: 'query', schema: { type: 'string', default: 'latest' } },
        { name: 'at', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'the newest backup of `source` not after this time' },
        { name: 'source', in: 'query', schema: { type: 'string' } },
        { name: 'include', in: 'query', schema: { type: 'array', items: { type: 'string' } } },
        { name: 'exclude', in: 'query', schema: { type: 'array', items: { type: 'string' } } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 5000, default: 200 }, description: 'entries listed (totals count all)' },
      ],
      responses: ok(restorePreviewResponseSchema),
    },
  },
  '/v1/restores/requests/{id}': { get: { summary: 'Your own restore request under dual control (the requester follows its approvals and job without approvals:read)', parameters: [idParam], responses: ok(approvalResponseSchema) } },
  '/v1/restores/{id}': { get: { summary: 'A restore job', parameters: [idParam], responses: ok(jobResponseSchema) } },
};
