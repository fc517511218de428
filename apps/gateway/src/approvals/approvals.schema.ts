import { approvalResponseSchema, approveRequestSchema, approveResponseSchema, listApprovalsResponseSchema, rejectRequestSchema } from '@tresor/contracts';
import { idParam, json, ok } from '../core/openapi-parts.js';

export { approveRequestSchema, rejectRequestSchema };

const stateParam = { name: 'state', in: 'query', required: false, schema: { type: 'string', enum: ['pending', 'approved', 'rejected', 'expired', 'executed'] }, description: 'only requests in this state (repeatable)' };

/** OpenAPI paths of dual control (approval requests). */
export const approvalsPaths = {
  '/v1/approvals': { get: { summary: 'Approval requests of your tenants, newest first', parameters: [stateParam], responses: ok(listApprovalsResponseSchema) } },
  '/v1/approvals/{id}': { get: { summary: 'One approval request', parameters: [idParam], responses: ok(approvalResponseSchema) } },
  '/v1/approvals/{id}/approve': {
    post: {
      summary: 'Approve (custodians; never the requester): re-authenticate with your password. The last approval needed queues the restore and returns its job',
      parameters: [idParam],
      requestBody: json(approveRequestSchema, 'input'),
      responses: ok(approveResponseSchema),
    },
  },
  '/v1/approvals/{id}/reject': { post: { summary: 'Reject (custodians): the request ends and never executes', parameters: [idParam], requestBody: json(rejectRequestSchema, 'input'), responses: ok(approvalResponseSchema) } },
};
