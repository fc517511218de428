// The shapes of dual-control requests and restore jobs as the gateway sends them (docs/api.md).

export type ApprovalState = 'pending' | 'approved' | 'rejected' | 'expired' | 'executed';

/** Who decided, and when. */
export interface Decision {
  subject: string;
  name: string;
  at: string;
}

/** GET /v1/approvals/{id} → approval. */
export interface ApprovalRequest {
  id: string;
  kind: 'restore';
  state: ApprovalState;
  tenant: string;
  source: string;
  backupId: string;
  restore: { target: string; include: string[]; exclude: string[]; dryRun: boolean; overwrite: boolean };
  requester: { subject: string; name: string };
  requiredApprovals: number;
  approvals: Decision[];
  rejection: (Decision & { reason: string }) | null;
  createdAt: string;
  expiresAt: string;
  jobId: string | null;
}

/** GET /v1/restores/{id} → job. */
export interface RestoreJob {
  id: string;
  kind: string;
  state: 'requested' | 'queued' | 'running' | 'uploading' | 'verifying' | 'completed' | 'failed';
  params: Record<string, unknown>;
  result: { files?: number; dirs?: number; bytes?: number; durationMs?: number; dryRun?: boolean; paths?: string[] } | null;
  error: { code: string; message: string } | null;
  createdAt: string;
  updatedAt: string;
}

/** `1 of 2 approvals (colin)`. */
export function approvalCount(r: ApprovalRequest): string {
  const names = r.approvals.map((a) => a.name).join(', ');
  return `${r.approvals.length} of ${r.requiredApprovals} approvals${names ? ` (${names})` : ''}`;
}

/** The patterns of a request as one line: `*.key, -*.old`. */
export function patternsOf(r: ApprovalRequest): string {
  const parts = [...r.restore.include, ...r.restore.exclude.map((p) => `not ${p}`)];
  return parts.length ? parts.join(', ') : 'everything';
}
