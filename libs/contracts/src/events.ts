import { z } from 'zod';
import { backupLevelSchema, idSchema, jobErrorSchema, sourceRefSchema } from './records.js';

/** An event's data: the CloudEvent `type` is `io.tresor.<name>.v<version>`, the subject `<root>.events.<name>`. */
export interface EventDefinition<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly version: number;
  readonly data: S;
  readonly description: string;
  readonly example: z.infer<S>;
}

const jobRef = { jobId: idSchema };
const failed = z.object({ ...jobRef, attempt: z.number().int(), error: jobErrorSchema });
const started = z.object({ ...jobRef, attempt: z.number().int().positive(), worker: z.string() });

function event<S extends z.ZodType>(def: EventDefinition<S>): EventDefinition<S> {
  return def;
}

export const EVENTS = {
  backupRequested: event({
    name: 'backup.requested',
    version: 1,
    description: 'The gateway accepted a backup request and queued its job.',
    data: z.object({ ...jobRef, source: sourceRefSchema, level: backupLevelSchema, tags: z.array(z.string()) }),
    example: { jobId: 'job-1', source: { kind: 'filesystem', location: '/etc/keys' }, level: 'incremental', tags: [] },
  }),
  backupStarted: event({
    name: 'backup.started',
    version: 1,
    description: 'A backup-engine replica claimed the job (attempt > 1 after a redelivery).',
    data: started,
    example: { jobId: 'job-1', attempt: 1, worker: 'backup-engine@host-1234' },
  }),
  backupProgress: event({
    name: 'backup.progress',
    version: 1,
    description: 'Progress of a running backup: every 1000 files read, and once when the archive is uploaded.',
    data: z.object({ ...jobRef, phase: z.enum(['reading', 'uploaded']), files: z.number().int(), bytesIn: z.number().int() }),
    example: { jobId: 'job-1', phase: 'uploaded', files: 42, bytesIn: 81920 },
  }),
  backupCompleted: event({
    name: 'backup.completed',
    version: 1,
    description: 'The backup is stored, verified and visible in the catalog.',
    data: z.object({
      ...jobRef,
      backupId: z.string(),
      level: backupLevelSchema,
      files: z.number().int(),
      bytesIn: z.number().int(),
      bytesStored: z.number().int(),
      archiveSize: z.number().int(),
    }),
    example: { jobId: 'job-1', backupId: '20260101T000000Z-abcd', level: 'full', files: 42, bytesIn: 81920, bytesStored: 30000, archiveSize: 31000 },
  }),
  backupFailed: event({
    name: 'backup.failed',
    version: 1,
    description: 'The backup job failed for good (no further redelivery).',
    data: failed,
    example: { jobId: 'job-1', attempt: 1, error: { code: 'IO', message: 'cannot read /etc/keys/a.key: EACCES' } },
  }),
  restoreRequested: event({
    name: 'restore.requested',
    version: 1,
    description: 'The gateway accepted a restore request.',
    data: z.object({ ...jobRef, backupId: z.string(), target: z.string(), dryRun: z.boolean() }),
    example: { jobId: 'job-2', backupId: '20260101T000000Z-abcd', target: '/srv/restore', dryRun: false },
  }),
  restoreStarted: event({ name: 'restore.started', version: 1, description: 'recovery claimed the restore job.', data: started, example: { jobId: 'job-2', attempt: 1, worker: 'recovery@host-1' } }),
  restoreCompleted: event({
    name: 'restore.completed',
    version: 1,
    description: 'The backup was restored (or, in a dry run, checked).',
    data: z.object({ ...jobRef, backupId: z.string(), files: z.number().int(), bytes: z.number().int(), dryRun: z.boolean() }),
    example: { jobId: 'job-2', backupId: '20260101T000000Z-abcd', files: 42, bytes: 81920, dryRun: false },
  }),
  restoreFailed: event({ name: 'restore.failed', version: 1, description: 'The restore failed; the target is unchanged.', data: failed, example: { jobId: 'job-2', attempt: 1, error: { code: 'CONFLICT', message: 'restore target /srv/restore is not empty' } } }),
  approvalRequested: event({
    name: 'approval.requested',
    version: 1,
    description: 'A restore of a sensitive source is waiting for dual control: `required` approvals by distinct custodians before `expiresAt`.',
    data: z.object({ requestId: idSchema, kind: z.literal('restore'), tenant: z.string(), source: z.string(), backupId: z.string(), requester: z.string(), required: z.number().int().positive(), expiresAt: z.string() }),
    example: { requestId: 'apr-1', kind: 'restore', tenant: 'default', source: '/etc/keys', backupId: '20260101T000000Z-abcd', requester: 'rita.requester', required: 2, expiresAt: '2026-01-02T00:00:00.000Z' },
  }),
  approvalGranted: event({
    name: 'approval.granted',
    version: 1,
    description: 'A custodian (re-authenticated) approved a request; `count` of `required` approvals so far.',
    data: z.object({ requestId: idSchema, approver: z.string(), count: z.number().int().positive(), required: z.number().int().positive() }),
    example: { requestId: 'apr-1', approver: 'carla.custodian', count: 1, required: 2 },
  }),
  approvalRejected: event({
    name: 'approval.rejected',
    version: 1,
    description: 'A custodian rejected a request; it is over and never executes.',
    data: z.object({ requestId: idSchema, rejecter: z.string(), reason: z.string() }),
    example: { requestId: 'apr-1', rejecter: 'colin.custodian', reason: 'no change ticket' },
  }),
  approvalExpired: event({
    name: 'approval.expired',
    version: 1,
    description: 'A request was still short of approvals when its window ended; it never executes.',
    data: z.object({ requestId: idSchema, count: z.number().int().nonnegative(), required: z.number().int().positive() }),
    example: { requestId: 'apr-1', count: 1, required: 2 },
  }),
  approvalExecuted: event({
    name: 'approval.executed',
    version: 1,
    description: 'A fully approved request queued its restore job (once: the request id is the job\'s idempotency key).',
    data: z.object({ requestId: idSchema, jobId: idSchema, approvers: z.array(z.string()) }),
    example: { requestId: 'apr-1', jobId: 'job-2', approvers: ['carla.custodian', 'colin.custodian'] },
  }),
  verifyRequested: event({
    name: 'verify.requested',
    version: 1,
    description: 'The gateway accepted a verify request.',
    data: z.object({ ...jobRef, backupId: z.string(), deep: z.boolean() }),
    example: { jobId: 'job-3', backupId: '20260101T000000Z-abcd', deep: true },
  }),
  verifyStarted: event({ name: 'verify.started', version: 1, description: 'recovery claimed the verify job.', data: started, example: { jobId: 'job-3', attempt: 1, worker: 'recovery@host-1' } }),
  verifyCompleted: event({
    name: 'verify.completed',
    version: 1,
    description: 'Verification ran; `ok` says whether the backup passed.',
    data: z.object({ ...jobRef, backupId: z.string(), ok: z.boolean(), deep: z.boolean(), problem: z.string().optional() }),
    example: { jobId: 'job-3', backupId: '20260101T000000Z-abcd', ok: true, deep: true },
  }),
  verifyFailed: event({ name: 'verify.failed', version: 1, description: 'Verification could not run.', data: failed, example: { jobId: 'job-3', attempt: 1, error: { code: 'NOT_FOUND', message: 'backup x not found' } } }),
  alertRaised: event({
    name: 'alert.raised',
    version: 1,
    description: 'monitoring raised an alert (a service stopped reporting, a job failed).',
    data: z.object({ alertId: z.string(), severity: z.enum(['info', 'warning', 'critical']), summary: z.string() }),
    example: { alertId: 'service-down:backup-engine', severity: 'critical', summary: 'backup-engine has not reported for 30 s' },
  }),
  alertResolved: event({
    name: 'alert.resolved',
    version: 1,
    description: 'The condition of an alert is over.',
    data: z.object({ alertId: z.string() }),
    example: { alertId: 'service-down:backup-engine' },
  }),
  repositoryOrphansRemoved: event({
    name: 'repository.orphans-removed',
    version: 1,
    description: 'A repair (the monitoring leader\'s orphan sweep, or POST /v1/fsck with repair) deleted `count` orphan objects (the first 100 listed): archives, manifests or keyrings of backups the catalog does not know, older than the grace.',
    data: z.object({ trigger: z.enum(['sweep', 'request']), olderThanSeconds: z.number().int().nonnegative(), count: z.number().int().positive(), removed: z.array(z.object({ location: z.string(), key: z.string(), backupId: z.string() })).max(100), kept: z.number().int().nonnegative() }),
    example: { trigger: 'sweep', olderThanSeconds: 86400, count: 1, removed: [{ location: 'storage-gateway:local:/srv/tresor/objects', key: 'archives/20261126T100715Z-fa4d57e6.tra', backupId: '20261126T100715Z-fa4d57e6' }], kept: 0 },
  }),
  auditAppended: event({
    name: 'audit.appended',
    version: 1,
    description: 'audit stored an event in its log, at position `seq`.',
    data: z.object({ seq: z.number().int().positive(), eventId: z.string(), eventType: z.string() }),
    example: { seq: 17, eventId: '0b9f…', eventType: 'io.tresor.backup.completed.v1' },
  }),
} as const;
export type EventName = keyof typeof EVENTS;
export type EventData<E extends EventName> = z.infer<(typeof EVENTS)[E]['data']>;

export function findEventByType(type: string): EventDefinition | undefined {
  return Object.values(EVENTS).find((e) => `io.tresor.${e.name}.v${e.version}` === type);
}
