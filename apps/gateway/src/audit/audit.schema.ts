import { z } from 'zod';
import { auditEntriesResponseSchema, auditVerifyReportSchema } from '@tresor/contracts';
import { ok } from '../core/openapi-parts.js';

/** OpenAPI paths of the audit feature. */
export const auditPaths = {
  '/v1/audit/verify': { get: { summary: 'Verify the audit hash chain and its signed checkpoints', responses: ok(z.object({ report: auditVerifyReportSchema })) } },
  '/v1/audit/entries': {
    get: {
      summary: 'Audit entries in chain order (export)',
      parameters: [
        { name: 'from', in: 'query', schema: { type: 'integer', minimum: 1 } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
      ],
      responses: ok(auditEntriesResponseSchema),
    },
  },
};
