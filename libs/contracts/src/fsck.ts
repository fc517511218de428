import { z } from 'zod';
import { versioned } from './versioned.js';

/**
 * The repository check of a cluster (`tresor fsck --server`, POST /v1/fsck): the same report as the
 * standalone `tresor fsck` (libs/repository fsck), run by the monitoring service, which sees both
 * the MongoDB catalog and the storage (through the storage-gateway).
 */

/** Longest safety age `repair.olderThanSeconds` accepts: ten years. */
const MAX_OLDER_THAN_SECONDS = 10 * 365 * 24 * 3600;

export const fsckRequestSchema = z.strictObject({
  /** Also read every archive and compare its SHA-256 with the catalog's. */
  readData: z.boolean().default(false),
  /** Delete orphan objects older than this many seconds (never what a catalogued backup reads, nor retained objects). */
  repair: z.strictObject({ olderThanSeconds: z.number().int().min(0).max(MAX_OLDER_THAN_SECONDS) }).optional(),
});
export type FsckRequest = z.input<typeof fsckRequestSchema>;

export const fsckFindingSchema = z.object({
  kind: z.enum(['missing', 'mismatch', 'broken-chain', 'orphan', 'unreachable', 'unknown']),
  location: z.string(),
  key: z.string().optional(),
  backupId: z.string().optional(),
  problem: z.string(),
});

export const fsckRepairSchema = z.object({
  location: z.string(),
  key: z.string(),
  backupId: z.string(),
  outcome: z.enum(['deleted', 'young', 'retained', 'referenced', 'failed']),
  detail: z.string().optional(),
});

export const fsckReportSchema = z.object({
  ok: z.boolean(),
  backups: z.number().int().nonnegative(),
  locations: z.array(z.string()),
  objects: z.number().int().nonnegative(),
  bytesRead: z.number().int().nonnegative(),
  readData: z.boolean(),
  findings: z.array(fsckFindingSchema),
  repairs: z.array(fsckRepairSchema),
});
export type FsckReportRecord = z.infer<typeof fsckReportSchema>;

export const fsckResponseSchema = z.object({ report: fsckReportSchema });

/** `monitoring.fsck`: the request and reply on NATS. */
export const FSCK_COMMAND_SCHEMAS = {
  request: versioned(1, fsckRequestSchema.shape),
  reply: versioned(1, { report: fsckReportSchema }),
} as const;
