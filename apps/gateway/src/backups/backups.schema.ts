import {
  createBackupRequestSchema,
  getBackupResponseSchema,
  listBackupsResponseSchema,
  listSourcesResponseSchema,
  verifyBackupRequestSchema,
} from '@tresor/contracts';
import { accepted, idParam, idem, json, ok } from '../core/openapi-parts.js';

export { createBackupRequestSchema, verifyBackupRequestSchema };

/** OpenAPI paths of the backups feature. */
export const backupsPaths = {
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
};
