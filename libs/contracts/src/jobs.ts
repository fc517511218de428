import { z } from 'zod';
import { backupLevelSchema, idSchema, sourceRefSchema } from './records.js';
import { versioned } from './versioned.js';

/** Work-queue messages (JetStream). The job id is the idempotency key of every step. */

export const backupJobSchema = versioned(1, {
  jobId: idSchema,
  source: sourceRefSchema,
  level: backupLevelSchema,
  tags: z.array(z.string().min(1).max(100)).max(50),
  compression: z.object({ codec: z.string(), level: z.number().int() }).optional(),
  skipUnreadable: z.boolean().optional(),
});
export type BackupJob = z.infer<typeof backupJobSchema>;

export const restoreJobSchema = versioned(1, {
  jobId: idSchema,
  backupId: idSchema,
  /** Absolute directory on the hosts running recovery. */
  target: z.string().min(1).max(4096).startsWith('/', 'an absolute path'),
  include: z.array(z.string()).max(1000),
  exclude: z.array(z.string()).max(1000),
  dryRun: z.boolean(),
  overwrite: z.boolean(),
});
export type RestoreJob = z.infer<typeof restoreJobSchema>;

export const verifyJobSchema = versioned(1, {
  jobId: idSchema,
  backupId: idSchema,
  deep: z.boolean(),
});
export type VerifyJob = z.infer<typeof verifyJobSchema>;

export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  readonly kind: string;
  readonly version: number;
  readonly schema: S;
  readonly description: string;
  readonly example: unknown;
}

export const JOBS = {
  backup: {
    kind: 'backup',
    version: 1,
    schema: backupJobSchema,
    description: 'Back up a source; consumed by backup-engine replicas from TRESOR_JOBS_BACKUP.',
    example: { v: 1, jobId: 'job-01J0000000', source: { kind: 'filesystem', location: '/etc/keys' }, level: 'incremental', tags: ['nightly'] },
  },
  restore: {
    kind: 'restore',
    version: 1,
    schema: restoreJobSchema,
    description: 'Restore a backup into a directory; consumed by recovery from TRESOR_JOBS_RECOVERY.',
    example: { v: 1, jobId: 'job-01J0000001', backupId: '20260101T000000Z-abcd', target: '/srv/restore', include: [], exclude: [], dryRun: false, overwrite: false },
  },
  verify: {
    kind: 'verify',
    version: 1,
    schema: verifyJobSchema,
    description: 'Verify a stored backup (deep: decrypt everything); consumed by recovery from TRESOR_JOBS_RECOVERY.',
    example: { v: 1, jobId: 'job-01J0000002', backupId: '20260101T000000Z-abcd', deep: true },
  },
} as const satisfies Record<string, JobDefinition>;
export type JobName = keyof typeof JOBS;
