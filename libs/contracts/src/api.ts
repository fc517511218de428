import { z } from 'zod';
import {
  backupLevelSchema,
  backupRecordSchema,
  entrySchema,
  jobRecordSchema,
  sourceRecordSchema,
  sourceRefSchema,
  storageLocationSchema,
} from './records.js';

/** Bodies of the gateway's REST API (v1), shared by the gateway, libs/client and the OpenAPI document. */

export const createBackupRequestSchema = z.strictObject({
  source: sourceRefSchema,
  level: backupLevelSchema.default('incremental'),
  tags: z.array(z.string().min(1).max(100)).max(50).default([]),
  compression: z.object({ codec: z.string().max(32), level: z.number().int() }).optional(),
  skipUnreadable: z.boolean().optional(),
});
export type CreateBackupRequest = z.input<typeof createBackupRequestSchema>;

export const jobResponseSchema = z.object({ job: jobRecordSchema });
export type JobResponse = z.infer<typeof jobResponseSchema>;

export const listedBackupSchema = backupRecordSchema.extend({ source: z.string().optional() });
export const listBackupsResponseSchema = z.object({ backups: z.array(listedBackupSchema) });
export type ListedBackup = z.infer<typeof listedBackupSchema>;

export const getBackupResponseSchema = z.object({ backup: backupRecordSchema, entries: z.array(entrySchema).optional() });
export type GetBackupResponse = z.infer<typeof getBackupResponseSchema>;

export const verifyBackupRequestSchema = z.strictObject({ deep: z.boolean().default(false) });
export type VerifyBackupRequest = z.input<typeof verifyBackupRequestSchema>;

export const createRestoreRequestSchema = z.strictObject({
  /** Backup id, unique prefix, or `latest`. */
  backup: z.string().min(1).max(200).default('latest'),
  /** The newest backup not after this time (instead of `backup`). */
  at: z.string().max(64).optional(),
  /** Source location whose backups to consider. */
  source: z.string().max(4096).optional(),
  // Bounded so that the job built from a request always fits in one NATS message (MAX_MESSAGE_BYTES).
  target: z.string().min(1).max(4096).startsWith('/', 'an absolute path'),
  include: z.array(z.string().max(4096)).max(100).default([]),
  exclude: z.array(z.string().max(4096)).max(100).default([]),
  dryRun: z.boolean().default(false),
  overwrite: z.boolean().default(false),
});
export type CreateRestoreRequest = z.input<typeof createRestoreRequestSchema>;

/** GET /v1/restores/preview: what a restore with these patterns would select, read from the catalog (nothing is restored). */
export const restorePreviewEntrySchema = z.object({ path: z.string(), type: z.enum(['file', 'dir', 'symlink']), size: z.number().int().nonnegative() });
export const restorePreviewResponseSchema = z.object({
  backup: backupRecordSchema.extend({ source: z.string() }),
  /** Whether the restore would wait for custodians' approvals (dual control). */
  sensitive: z.boolean(),
  /** The first `limit` selected entries in path order. */
  entries: z.array(restorePreviewEntrySchema),
  /** Counts over every selected entry, not just the listed ones. */
  totals: z.object({ entries: z.number().int(), files: z.number().int(), dirs: z.number().int(), symlinks: z.number().int(), bytes: z.number().int() }),
  truncated: z.boolean(),
});
export type RestorePreviewResponse = z.infer<typeof restorePreviewResponseSchema>;

export const listSourcesResponseSchema = z.object({ sources: z.array(sourceRecordSchema) });
export const listJobsResponseSchema = z.object({ jobs: z.array(jobRecordSchema) });
export const storageLocationsResponseSchema = z.object({ locations: z.array(storageLocationSchema) });
export const healthResponseSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  services: z.array(z.object({ service: z.string(), instance: z.string(), ready: z.boolean(), lastSeen: z.string() })),
  jobs: z.object({ completed: z.number().int(), failed: z.number().int() }),
});

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** A rule of a level plan: runs due at a time `cron` names back up at `level` (first matching rule wins). */
export const planRuleSchema = z.strictObject({ cron: z.string().min(1).max(200), level: backupLevelSchema });

/** What runs missed while no scheduler ran (longer than the grace) become: nothing, or one run. */
export const catchUpSchema = z.enum(['skip', 'run-once']);

/**
 * A schedule fires backup jobs: once at `at`, every `everyMs` from `startAt` (default: now), or at
 * the times a cron expression names in `timezone`. Each run due at time T is the job with
 * idempotency key `<scheduleId>@<T ISO>`.
 */
export const createScheduleRequestSchema = z.strictObject({
  kind: z.enum(['once', 'interval', 'cron']),
  /** once: when (ISO-8601). */
  at: z.iso.datetime({ offset: true }).optional(),
  /** interval: period in ms (at least 1 s). */
  everyMs: z.number().int().min(1000).optional(),
  /** interval: first run (ISO-8601, default now). */
  startAt: z.iso.datetime({ offset: true }).optional(),
  /** cron: 5 fields (minute hour day-of-month month day-of-week) or 6 (a leading seconds field). */
  cron: z.string().min(1).max(200).optional(),
  /** cron: IANA time zone the expression is read in. */
  timezone: z.string().min(1).max(64).default('UTC'),
  /** Levels by due time, e.g. `[{cron: "* * * * 0", level: "full"}]`; otherwise `backup.level`. */
  plan: z.array(planRuleSchema).max(20).default([]),
  /** Each run is delayed by a deterministic 0..jitterMs derived from its run id. */
  jitterMs: z.number().int().min(0).max(86_400_000).default(0),
  catchUp: catchUpSchema.default('skip'),
  paused: z.boolean().default(false),
  backup: createBackupRequestSchema,
});
export type CreateScheduleRequest = z.input<typeof createScheduleRequestSchema>;

export const scheduleRecordSchema = z.object({
  id: z.string(),
  kind: z.enum(['once', 'interval', 'cron']),
  everyMs: z.number().int().nullable(),
  /** interval: the first due time; the others are whole periods after it. */
  anchor: z.string().nullable().default(null),
  cron: z.string().nullable().default(null),
  timezone: z.string().default('UTC'),
  plan: z.array(planRuleSchema).default([]),
  jitterMs: z.number().int().default(0),
  catchUp: catchUpSchema.default('skip'),
  paused: z.boolean().default(false),
  /** The backup request each firing submits (as POST /v1/backups would). */
  backup: z.record(z.string(), z.unknown()),
  /** The earliest due time not yet handled; null once a one-off schedule has fired. */
  nextRunAt: z.string().nullable(),
  /** Due times claimed by a scheduler whose jobs are being submitted. */
  pending: z.array(z.string()).default([]),
  fired: z.number().int(),
  lastJobId: z.string().nullable(),
  lastRunAt: z.string().nullable(),
  createdAt: z.string(),
  version: z.number().int(),
});
export type ScheduleRecord = z.infer<typeof scheduleRecordSchema>;
export const scheduleResponseSchema = z.object({ schedule: scheduleRecordSchema });
export const listSchedulesResponseSchema = z.object({ schedules: z.array(scheduleRecordSchema) });
/** POST /v1/schedules/{id}/pause and /resume take no body; /run answers with the job it submitted. */
export const runScheduleResponseSchema = z.object({ job: jobRecordSchema });
