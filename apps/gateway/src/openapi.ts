import { z } from 'zod';
import {
  createBackupRequestSchema,
  createRestoreRequestSchema,
  createScheduleRequestSchema,
  listSchedulesResponseSchema,
  scheduleResponseSchema,
  errorBodySchema,
  getBackupResponseSchema,
  healthResponseSchema,
  jobResponseSchema,
  listBackupsResponseSchema,
  listJobsResponseSchema,
  listSourcesResponseSchema,
  storageLocationsResponseSchema,
  verifyBackupRequestSchema,
} from '@tresor/contracts';

const json = (schema: z.ZodType, io: 'input' | 'output' = 'output') => ({
  content: { 'application/json': { schema: z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' }) } },
});
const ok = (schema: z.ZodType, description = 'OK') => ({ 200: { description, ...json(schema) }, default: { description: 'error', ...json(errorBodySchema) } });
const accepted = { 202: { description: 'job accepted', ...json(jobResponseSchema) }, default: { description: 'error', ...json(errorBodySchema) } };
const idem = { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' }, description: 'repeat a POST safely: the same key returns the same job' };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

/** The OpenAPI 3 document of the gateway, generated from libs/contracts (served at /openapi.json and /docs). */
export function openApiDocument() {
  return {
    openapi: '3.0.3',
    info: { title: 'Tresor gateway API', version: '1.0.0', description: 'Backups, restores and jobs of a Tresor cluster. Every POST accepts an Idempotency-Key header.' },
    paths: {
      '/v1/sources': { get: { summary: 'List sources', responses: ok(listSourcesResponseSchema) } },
      '/v1/backups': {
        get: { summary: 'List backups, oldest first', parameters: [{ name: 'source', in: 'query', schema: { type: 'string' } }], responses: ok(listBackupsResponseSchema) },
        post: { summary: 'Request a backup', parameters: [idem], requestBody: json(createBackupRequestSchema, 'input'), responses: accepted },
      },
      '/v1/backups/{id}': {
        get: {
          summary: 'A backup (id, unique prefix or latest), optionally with its entries',
          parameters: [idParam, { name: 'entries', in: 'query', schema: { type: 'boolean' } }, { name: 'include', in: 'query', schema: { type: 'array', items: { type: 'string' } } }, { name: 'exclude', in: 'query', schema: { type: 'array', items: { type: 'string' } } }],
          responses: ok(getBackupResponseSchema),
        },
      },
      '/v1/backups/{id}/verify': { post: { summary: 'Request verification of a backup', parameters: [idParam, idem], requestBody: json(verifyBackupRequestSchema, 'input'), responses: accepted } },
      '/v1/restores': { post: { summary: 'Request a restore', parameters: [idem], requestBody: json(createRestoreRequestSchema, 'input'), responses: accepted } },
      '/v1/restores/{id}': { get: { summary: 'A restore job', parameters: [idParam], responses: ok(jobResponseSchema) } },
      '/v1/jobs': { get: { summary: 'Recent jobs', parameters: [{ name: 'kind', in: 'query', schema: { type: 'string' } }, { name: 'limit', in: 'query', schema: { type: 'integer' } }], responses: ok(listJobsResponseSchema) } },
      '/v1/jobs/{id}': { get: { summary: 'A job', parameters: [idParam], responses: ok(jobResponseSchema) } },
      '/v1/schedules': {
        get: { summary: 'List schedules', responses: ok(listSchedulesResponseSchema) },
        post: { summary: 'Create a one-off or interval backup schedule', requestBody: json(createScheduleRequestSchema, 'input'), responses: { 201: { description: 'created', ...json(scheduleResponseSchema) }, default: { description: 'error', ...json(errorBodySchema) } } },
      },
      '/v1/schedules/{id}': {
        get: { summary: 'A schedule', parameters: [idParam], responses: ok(scheduleResponseSchema) },
        delete: { summary: 'Delete a schedule', parameters: [idParam], responses: { 204: { description: 'deleted' }, default: { description: 'error', ...json(errorBodySchema) } } },
      },
      '/v1/storage/locations': { get: { summary: 'Storage locations', responses: ok(storageLocationsResponseSchema) } },
      '/v1/health': { get: { summary: 'Cluster health (from monitoring)', responses: ok(healthResponseSchema) } },
      '/health/live': { get: { summary: 'This process is alive', responses: { 200: { description: 'alive' } } } },
      '/health/ready': { get: { summary: 'This process can serve', responses: { 200: { description: 'ready' }, 503: { description: 'not ready' } } } },
    },
  };
}
