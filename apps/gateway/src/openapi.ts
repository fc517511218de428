import { backupsPaths } from './backups/backups.schema.js';
import { healthPaths } from './health/health.schema.js';
import { jobsPaths } from './jobs/jobs.schema.js';
import { restoresPaths } from './restores/restores.schema.js';
import { schedulesPaths } from './schedules/schedules.schema.js';
import { storagePaths } from './storage/storage.schema.js';

/** The OpenAPI 3 document of the gateway, generated from libs/contracts (served at /openapi.json and /docs). */
export function openApiDocument() {
  return {
    openapi: '3.0.3',
    info: { title: 'Tresor gateway API', version: '1.0.0', description: 'Backups, restores and jobs of a Tresor cluster. Every POST accepts an Idempotency-Key header.' },
    // One entry per feature module; a new feature adds its <feature>.schema.ts paths here.
    paths: { ...backupsPaths, ...restoresPaths, ...jobsPaths, ...schedulesPaths, ...storagePaths, ...healthPaths },
  };
}
