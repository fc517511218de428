import { z } from 'zod';
import { auditEntriesResponseSchema, auditVerifyReportSchema } from '@tresor/contracts';
import { errorResponse, json, ok } from '../core/openapi-parts.js';

const text = (name: string, description: string) => ({ name, in: 'query', schema: { type: 'string', maxLength: 256 }, description });
const time = (name: string, description: string) => ({ name, in: 'query', schema: { type: 'string', format: 'date-time' }, description });

/** OpenAPI paths of the audit feature. */
export const auditPaths = {
  '/v1/audit/verify': { get: { summary: 'Verify the audit hash chain and its signed checkpoints', responses: ok(z.object({ report: auditVerifyReportSchema })) } },
  '/v1/audit/entries': {
    get: {
      summary: 'Search and export audit entries in chain order: JSON pages (`next` continues), or every match streamed as JSON lines or CSV (format=jsonl|csv, a download)',
      parameters: [
        { name: 'from', in: 'query', schema: { type: 'integer', minimum: 1 }, description: 'first seq to look at (default 1)' },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 }, description: 'JSON only: matches per page (default 100)' },
        { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'jsonl', 'csv'], default: 'json' } },
        text('actor', 'case-insensitive part of the actor user name'),
        text('action', 'case-insensitive part of the action (e.g. `approvals.`)'),
        text('target', 'case-insensitive part of the target'),
        { name: 'outcome', in: 'query', schema: { type: 'string', enum: ['success', 'failure', 'denied'] } },
        time('since', 'entries at or after this time'),
        time('until', 'entries at or before this time'),
      ],
      responses: {
        200: {
          description: 'OK',
          content: {
            ...json(auditEntriesResponseSchema).content,
            'application/x-ndjson': { schema: { type: 'string', description: 'one audit entry (JSON) per line' } },
            'text/csv': { schema: { type: 'string', description: 'header line, then one entry per line; details as JSON in one cell' } },
          },
        },
        ...errorResponse,
      },
    },
  },
};
