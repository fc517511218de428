import { createBackupRequestSchema, createScheduleRequestSchema, listSchedulesResponseSchema, runScheduleResponseSchema, scheduleResponseSchema } from '@tresor/contracts';
import { errorResponse, idParam, json, ok } from '../core/openapi-parts.js';

export { createBackupRequestSchema, createScheduleRequestSchema };

/** OpenAPI paths of the schedules feature. */
export const schedulesPaths = {
  '/v1/schedules': {
    get: { summary: 'List schedules', responses: ok(listSchedulesResponseSchema) },
    post: { summary: 'Create a one-off, interval or cron backup schedule (docs/scheduling.md)', requestBody: json(createScheduleRequestSchema, 'input'), responses: { 201: { description: 'created', ...json(scheduleResponseSchema) }, ...errorResponse } },
  },
  '/v1/schedules/{id}': {
    get: { summary: 'A schedule', parameters: [idParam], responses: ok(scheduleResponseSchema) },
    put: { summary: 'Replace a schedule\'s definition (the body of POST /v1/schedules): same id and run history, next run from the new timing', parameters: [idParam], requestBody: json(createScheduleRequestSchema, 'input'), responses: ok(scheduleResponseSchema) },
    delete: { summary: 'Delete a schedule', parameters: [idParam], responses: { 204: { description: 'deleted' }, ...errorResponse } },
  },
  '/v1/schedules/{id}/pause': {
    post: { summary: 'Pause a schedule: runs due while paused never fire', parameters: [idParam], responses: ok(scheduleResponseSchema) },
  },
  '/v1/schedules/{id}/resume': {
    post: { summary: 'Resume a schedule from its next due time', parameters: [idParam], responses: ok(scheduleResponseSchema) },
  },
  '/v1/schedules/{id}/run': {
    post: { summary: "Run a schedule's backup now (Idempotency-Key accepted)", parameters: [idParam], responses: { 202: { description: 'job submitted', ...json(runScheduleResponseSchema) }, ...errorResponse } },
  },
};
