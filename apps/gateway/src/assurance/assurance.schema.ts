import { complianceReportResponseSchema, listAlertsResponseSchema, listDrillsResponseSchema, runDrillRequestSchema, runDrillResponseSchema } from '@tresor/contracts';
import { errorResponse, json, ok } from '../core/openapi-parts.js';

const q = (name: string, schema: Record<string, unknown>, description: string) => ({ name, in: 'query', schema, description });

/** OpenAPI paths of alerts, drills and the compliance report. */
export const assurancePaths = {
  '/v1/alerts': {
    get: {
      summary: 'Alert history (newest raised first), recorded by the monitoring service',
      parameters: [
        q('state', { type: 'string', enum: ['firing', 'resolved'] }, 'only firing or resolved alerts'),
        q('level', { type: 'string' }, 'levels, comma-separated: INFO, WARNING, CRITICAL'),
        q('source', { type: 'string' }, 'only alerts of this source location'),
        q('rule', { type: 'string' }, 'only alerts of this rule'),
        q('since', { type: 'string', format: 'date-time' }, 'only alerts firing at some time since then'),
        q('before', { type: 'string', format: 'date-time' }, 'only alerts raised before then (the previous page\'s next)'),
        q('limit', { type: 'integer', minimum: 1, maximum: 1000 }, 'page size (default 100)'),
      ],
      responses: ok(listAlertsResponseSchema),
    },
  },
  '/v1/drills': {
    get: {
      summary: 'Restore drill records (newest finished first)',
      parameters: [
        q('source', { type: 'string' }, 'only drills of this source location'),
        q('outcome', { type: 'string', enum: ['ok', 'failed'] }, 'only passed or failed drills'),
        q('since', { type: 'string', format: 'date-time' }, 'only drills finished since then'),
        q('limit', { type: 'integer', minimum: 1, maximum: 1000 }, 'at most this many (default 100)'),
      ],
      responses: ok(listDrillsResponseSchema),
    },
    post: {
      summary: 'Run a restore drill now (monitoring service): restore into scratch space, deep verify, record the RTO; answers when it finished',
      requestBody: json(runDrillRequestSchema, 'input'),
      responses: { 200: { description: 'the drills run (a failed drill is a record with ok: false)', ...json(runDrillResponseSchema) }, ...errorResponse },
    },
  },
  '/v1/compliance/report': {
    get: {
      summary: 'The compliance report of the cluster (docs/compliance.md)',
      parameters: [q('format', { type: 'string', enum: ['json', 'html'] }, 'json (default) or html')],
      responses: { 200: { description: 'the report: JSON { report }, or an HTML page', ...json(complianceReportResponseSchema) }, ...errorResponse },
    },
  },
};
