import { approvalsPaths } from './approvals/approvals.schema.js';
import { assurancePaths } from './assurance/assurance.schema.js';
import { auditPaths } from './audit/audit.schema.js';
import { authPaths } from './auth/auth.schema.js';
import { backupsPaths } from './backups/backups.schema.js';
import { eventsPaths } from './events/events.schema.js';
import { fsckPaths } from './fsck/fsck.schema.js';
import { healthPaths } from './health/health.schema.js';
import { jobsPaths } from './jobs/jobs.schema.js';
import { keysPaths } from './keys/keys.schema.js';
import { restoresPaths } from './restores/restores.schema.js';
import { retentionPaths } from './retention/retention.schema.js';
import { schedulesPaths } from './schedules/schedules.schema.js';
import { storagePaths } from './storage/storage.schema.js';
import { tokensPaths } from './tokens/tokens.schema.js';

/** The OpenAPI 3 document of the gateway, generated from libs/contracts (served at /openapi.json and /docs). */
export function openApiDocument() {
  return {
    openapi: '3.0.3',
    info: { title: 'Tresor gateway API', version: '1.0.0', description: 'Backups, restores and jobs of a Tresor cluster. Every route but login, refresh and health probes needs Authorization: Bearer <token>. Every POST accepts an Idempotency-Key header.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a session access token (POST /v1/auth/login) or an API token (tresor_...)' } } },
    security: [{ bearer: [] }],
    // One entry per feature module; a new feature adds its <feature>.schema.ts paths here.
    paths: { ...authPaths, ...tokensPaths, ...backupsPaths, ...restoresPaths, ...approvalsPaths, ...jobsPaths, ...eventsPaths, ...schedulesPaths, ...storagePaths, ...healthPaths, ...auditPaths, ...assurancePaths, ...retentionPaths, ...keysPaths, ...fsckPaths },
  };
}
