import { createBackupRequestSchema, createScheduleRequestSchema, listSchedulesResponseSchema, scheduleResponseSchema } from '@tresor/contracts';
import { errorResponse, idParam, json, ok } from '../core/openapi-parts.js';

export { createBackupRequestSchema, createScheduleRequestSchema };

/** OpenAPI paths of the schedules feature. */
export const schedulesPaths = {
  '/v1/schedules': {
    get: { summary: 'List schedules', responses: ok(listSchedulesResponseSchema) },
    post: { summary: 'Create a one-off or interval backup schedule', requestBody: json(createScheduleRequestSchema, 'input'), responses: { 201: { description: 'created', ...json(scheduleResponseSchema) }, ...errorResponse } },
  },
  '/v1/schedules/{id}': {
    get: { summary: 'A schedule', parameters: [idParam], responses: ok(scheduleResponseSchema) },
    delete: { summary: 'Delete a schedule', parameters: [idParam], responses: { 204: { description: 'deleted' }, ...errorResponse } },
  },
};
