import { storageLocationsResponseSchema } from '@tresor/contracts';
import { ok } from '../core/openapi-parts.js';

/** OpenAPI paths of the storage feature. */
export const storagePaths = {
  '/v1/storage/locations': { get: { summary: 'Storage locations', responses: ok(storageLocationsResponseSchema) } },
};
