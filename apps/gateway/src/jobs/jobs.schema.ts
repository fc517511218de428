import { jobResponseSchema, listJobsResponseSchema } from '@tresor/contracts';
import { idParam, ok } from '../core/openapi-parts.js';

/** OpenAPI paths of the jobs feature. */
export const jobsPaths = {
  '/v1/jobs': { get: { summary: 'Recent jobs', parameters: [{ name: 'kind', in: 'query', schema: { type: 'string' } }, { name: 'limit', in: 'query', schema: { type: 'integer' } }], responses: ok(listJobsResponseSchema) } },
  '/v1/jobs/{id}': { get: { summary: 'A job', parameters: [idParam], responses: ok(jobResponseSchema) } },
};
