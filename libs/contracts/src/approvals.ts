import { z } from 'zod';
import { jobResponseSchema } from './api.js';
import { jobRecordSchema } from './records.js';

// Dual control (PCI DSS 3.6.1.2): a restore of a sensitive source waits for M custodians.

export const APPROVAL_STATES = ['pending', 'approved', 'rejected', 'expired', 'executed'] as const;
export const approvalStateSchema = z.enum(APPROVAL_STATES);
export type ApprovalState = z.infer<typeof approvalStateSchema>;

const actorSchema = z.object({ subject: z.string(), name: z.string() });

/** One custodian's decision on a request. */
export const approvalDecisionSchema = actorSchema.extend({ at: z.string() });

/** A restore request under dual control, as the API shows it. */
export const approvalRequestSchema = z.object({
  id: z.string(),
  kind: z.literal('restore'),
  state: approvalStateSchema,
  tenant: z.string(),
  /** Source location of the backup to restore. */
  source: z.string(),
  backupId: z.string(),
  /** The restore as it will be queued (backup resolved to its id). */
  restore: z.object({ target: z.string(), include: z.array(z.string()), exclude: z.array(z.string()), dryRun: z.boolean(), overwrite: z.boolean() }),
  requester: actorSchema,
  requiredApprovals: z.number().int().positive(),
  approvals: z.array(approvalDecisionSchema),
  rejection: approvalDecisionSchema.extend({ reason: z.string() }).nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
  /** The restore job once executed. */
  jobId: z.string().nullable(),
});
export type ApprovalRequestDto = z.infer<typeof approvalRequestSchema>;

export const approvalResponseSchema = z.object({ approval: approvalRequestSchema });
export const listApprovalsResponseSchema = z.object({ approvals: z.array(approvalRequestSchema) });
/** Approve: the approver's password again (re-authentication), checked like a login. */
export const approveRequestSchema = z.strictObject({ password: z.string().min(1).max(1024) });
export type ApproveRequest = z.infer<typeof approveRequestSchema>;
export const rejectRequestSchema = z.strictObject({ reason: z.string().min(1).max(500) });
export type RejectRequest = z.infer<typeof rejectRequestSchema>;
/** Approve answers with the request and, when this approval was the last one needed, the job. */
export const approveResponseSchema = z.object({ approval: approvalRequestSchema, job: jobRecordSchema.nullable() });

/** POST /v1/restores answers 202 with the job, or with an approval request for a sensitive source. */
export const createRestoreResponseSchema = z.union([jobResponseSchema, approvalResponseSchema]);
export type CreateRestoreResponse = z.infer<typeof createRestoreResponseSchema>;
