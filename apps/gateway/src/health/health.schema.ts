import { healthResponseSchema } from '@tresor/contracts';
import { ok } from '../core/openapi-parts.js';

/** OpenAPI paths of cluster and process health. */
export const healthPaths = {
  '/v1/health': { get: { summary: 'Cluster health (from monitoring)', responses: ok(healthResponseSchema) } },
  '/health/live': { get: { summary: 'This process is alive', security: [], responses: { 200: { description: 'alive' } } } },
  '/health/ready': { get: { summary: 'This process can serve', security: [], responses: { 200: { description: 'ready' }, 503: { description: 'not ready' } } } },
};
