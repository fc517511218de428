import { z } from 'zod';

/** Shared records that travel in commands, events and the gateway API. */

export const backupLevelSchema = z.enum(['full', 'differential', 'incremental']);
export type BackupLevel = z.infer<typeof backupLevelSchema>;

export const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256');
export const isoTimeSchema = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO-8601 time');
export const idSchema = z.string().min(1).max(200).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : -');

/** A tenant (namespace) name: users and API tokens are granted tenants and see only their sources. */
export const tenantSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a tenant name: a-z, 0-9, _ and -, at most 63');
export const DEFAULT_TENANT = 'default';

export const sourceRefSchema = z.object({
  kind: z.literal('filesystem'),
  /** Absolute path on the hosts running backup-engine (agents come later). */
  location: z.string().min(1).max(4096).startsWith('/', 'an absolute path'),
  /** The tenant the source belongs to (bound on its first backup; default `default`). */
  tenant: tenantSchema.optional(),
});
export type SourceRef = z.infer<typeof sourceRefSchema>;

export const sourceRecordSchema = z.object({
  id: z.string(),
  kind: z.string(),
  location: z.string(),
  createdAt: isoTimeSchema,
  /** Set by the gateway (sources have no tenant in the catalog itself). */
  tenant: z.string().optional(),
  /** Set by the gateway: a restore of a sensitive source needs custodians' approvals (dual control). */
  sensitive: z.boolean().optional(),
});
export type SourceRecordDto = z.infer<typeof sourceRecordSchema>;

export const backupRecordSchema = z.object({
  id: z.string(),
  sourceId: z.string(),
  level: backupLevelSchema,
  parentId: z.string().nullable(),
  createdAt: isoTimeSchema,
  completedAt: isoTimeSchema,
  tags: z.array(z.string()),
  archiveKey: z.string(),
  archiveSha256: sha256Schema,
  archiveSize: z.number().int().nonnegative(),
  manifestKey: z.string(),
  manifestSha256: sha256Schema,
  dataBackupIds: z.array(z.string()),
  files: z.number().int().nonnegative(),
  dirs: z.number().int().nonnegative(),
  bytesIn: z.number().int().nonnegative(),
  bytesStored: z.number().int().nonnegative(),
});
export type BackupRecordDto = z.infer<typeof backupRecordSchema>;

export const entrySchema = z.object({
  path: z.string(),
  type: z.enum(['file', 'dir', 'symlink']),
  mode: z.number().int(),
  uid: z.number().int(),
  gid: z.number().int(),
  mtimeNs: z.string(),
  size: z.number().int().nonnegative(),
  ino: z.number().int(),
  sha256: sha256Schema.optional(),
  linkTarget: z.string().optional(),
  data: z
    .object({ backupId: z.string(), offset: z.number().int(), length: z.number().int(), codec: z.string() })
    .optional(),
});
export type EntryDto = z.infer<typeof entrySchema>;

export const jobKindSchema = z.enum(['backup', 'restore', 'verify']);
export type JobKind = z.infer<typeof jobKindSchema>;

/** requested -> queued -> running -> uploading -> verifying -> completed | failed */
export const jobStateSchema = z.enum(['requested', 'queued', 'running', 'uploading', 'verifying', 'completed', 'failed']);
export type JobState = z.infer<typeof jobStateSchema>;
export const TERMINAL_JOB_STATES: readonly JobState[] = ['completed', 'failed'];

/** Allowed lifecycle transitions; `running` may be re-entered by a later attempt after a crash. */
export const JOB_TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  requested: ['queued', 'failed'],
  queued: ['running', 'failed'],
  running: ['running', 'uploading', 'verifying', 'completed', 'failed'],
  uploading: ['running', 'verifying', 'failed'],
  verifying: ['running', 'completed', 'failed'],
  completed: [],
  failed: [],
};

export const jobErrorSchema = z.object({ code: z.string(), message: z.string() });

export const jobRecordSchema = z.object({
  id: idSchema,
  kind: jobKindSchema,
  state: jobStateSchema,
  /** Optimistic-concurrency version: every transition increments it. */
  version: z.number().int().nonnegative(),
  attempts: z.number().int().nonnegative(),
  /** Which worker holds the job (set when running). */
  worker: z.string().nullable(),
  idempotencyKey: z.string().nullable(),
  params: z.record(z.string(), z.unknown()),
  result: z.record(z.string(), z.unknown()).nullable(),
  error: jobErrorSchema.nullable(),
  traceparent: z.string().nullable(),
  createdAt: isoTimeSchema,
  updatedAt: isoTimeSchema,
  /** When each state was entered (the latest time, for a state entered twice). */
  timestamps: z.partialRecord(jobStateSchema, isoTimeSchema),
});
export type JobRecord = z.infer<typeof jobRecordSchema>;

export const storageLocationSchema = z.object({
  name: z.string(),
  location: z.string(),
  capabilities: z.object({ immutability: z.boolean(), rangedReads: z.boolean(), serverSideCopy: z.boolean() }),
});
export type StorageLocation = z.infer<typeof storageLocationSchema>;

/** Error body of every error reply and HTTP error: `code` is a TresorError code. */
export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
