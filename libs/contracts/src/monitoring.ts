import { z } from 'zod';
import { versioned } from './versioned.js';

/**
 * Records of the monitoring side (alerts, restore drills, compliance findings): the one schema the
 * alerting and assurance libs, the monitoring service, the gateway API and libs/client share.
 */

/** Alert levels, least severe first (the order routing and escalation compare by). */
export const ALERT_LEVELS = ['INFO', 'WARNING', 'CRITICAL'] as const;
export const alertLevelSchema = z.enum(ALERT_LEVELS);
export type AlertLevel = z.infer<typeof alertLevelSchema>;

/** Detail values stay scalar so every channel can render them as text. */
export const alertDetailsSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
export type AlertDetails = z.infer<typeof alertDetailsSchema>;

export const alertStateSchema = z.enum(['firing', 'resolved']);
export type AlertState = z.infer<typeof alertStateSchema>;

/** One occurrence of a condition, from its first report until it is resolved for good. */
export const alertSchema = z.object({
  /** Unique per occurrence; a condition that fires again after a notified resolve gets a new id. */
  id: z.string(),
  /** Stable per condition: `<rule>:<12 hex of SHA-256 over rule, tenant, source, key>`. */
  fingerprint: z.string(),
  rule: z.string(),
  level: alertLevelSchema,
  source: z.string().optional(),
  tenant: z.string().optional(),
  key: z.string().optional(),
  summary: z.string(),
  details: alertDetailsSchema,
  state: alertStateSchema,
  raisedAt: z.string(),
  resolvedAt: z.string().optional(),
  /** Last time a check reported the condition (raise or repeat). */
  lastSeenAt: z.string(),
  /** Last time a notification about this occurrence went out. */
  notifiedAt: z.string().optional(),
  /** Notifications sent about this occurrence (raised, reminders, resolved). */
  notifications: z.number().int().nonnegative(),
  /** Resolves that a raise within the group window took back (a flapping condition). */
  flaps: z.number().int().nonnegative(),
});
export type Alert = z.infer<typeof alertSchema>;

/** One restore drill: what was restored, how long it took (the RTO), and whether every entry verified. */
export const drillRecordSchema = z.object({
  id: z.string(),
  source: z.string(),
  backupId: z.string(),
  /** `latest`, or `random` within `withinDays`. */
  pick: z.enum(['latest', 'random']),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** Restore plus verification of the scratch copy, in seconds. */
  rtoSeconds: z.number().nonnegative(),
  ok: z.boolean(),
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  entriesVerified: z.number().int().nonnegative(),
  problem: z.string().optional(),
});
export type DrillRecord = z.infer<typeof drillRecordSchema>;

export const controlStatusSchema = z.enum(['pass', 'fail', 'not-evaluated', 'not-applicable']);
export type ControlStatus = z.infer<typeof controlStatusSchema>;
export const evidenceSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
export type Evidence = z.infer<typeof evidenceSchema>;

/** One control evaluated on one source (or the repository): the verdict and what it rests on. */
export const findingSchema = z.object({ control: z.string(), status: controlStatusSchema, summary: z.string(), evidence: evidenceSchema });
export type Finding = z.infer<typeof findingSchema>;

/** The compliance report (docs/compliance.md), the same shape standalone and in a cluster. */
export const complianceReportSchema = z.object({
  generatedAt: z.string(),
  repositoryId: z.string(),
  totals: z.object({ pass: z.number().int(), fail: z.number().int(), 'not-evaluated': z.number().int(), 'not-applicable': z.number().int() }),
  /** Controls over the whole repository: KEK cryptoperiods, the audit chain. */
  repository: z.array(findingSchema),
  sources: z.array(z.object({ source: z.string(), tenant: z.string().optional(), findings: z.array(findingSchema) })),
});
export type ComplianceReport = z.infer<typeof complianceReportSchema>;

/** Drill request of the API and of the `monitoring.drill` command. */
export const runDrillRequestSchema = z.strictObject({
  /** Only this source (location); default every source in the catalog. */
  source: z.string().min(1).optional(),
  /** Pick a random backup created within this many days instead of the latest. */
  randomWithinDays: z.number().positive().max(36_500).optional(),
});
export type RunDrillRequest = z.input<typeof runDrillRequestSchema>;

export const listAlertsResponseSchema = z.object({
  alerts: z.array(alertSchema),
  /** Pass as `before` for the next (older) page; null when this page is the last. */
  next: z.string().nullable(),
});
export type ListAlertsResponse = z.infer<typeof listAlertsResponseSchema>;
export const listDrillsResponseSchema = z.object({ drills: z.array(drillRecordSchema) });
export const runDrillResponseSchema = z.object({ drills: z.array(drillRecordSchema) });
export const complianceReportResponseSchema = z.object({ report: complianceReportSchema });

/** A key slot as the API shows it: provider type and id, recovery share holders; never key material. */
export const publicSlotSchema = z.object({
  type: z.string(),
  kekId: z.string(),
  recovery: z.object({ threshold: z.number().int(), custodians: z.array(z.string()) }).optional(),
});

/** A KEK version with its age against its cryptoperiod (`due` within warnDays of rotateBy, `overdue` past it). */
export const kekVersionOverviewSchema = z.object({
  version: z.number().int(),
  state: z.enum(['active', 'disabled', 'destroyed']),
  createdAt: z.string(),
  ageDays: z.number().int(),
  cryptoperiodDays: z.number().int(),
  /** True when the version names no cryptoperiod and the default (365 days) applies. */
  defaulted: z.boolean(),
  rotateBy: z.string(),
  daysLeft: z.number().int(),
  status: z.enum(['ok', 'due', 'overdue', 'inactive']),
  slots: z.array(publicSlotSchema),
});

/** GET /v1/keys and `monitoring.keys`: the repository's KEK versions and providers, read without any key. */
export const keysOverviewSchema = z.object({
  repositoryId: z.string(),
  generatedAt: z.string(),
  warnDays: z.number().int(),
  providers: z.array(z.object({ type: z.string(), versions: z.array(z.number().int()) })),
  versions: z.array(kekVersionOverviewSchema),
  /** One line per active version that is due or overdue. */
  warnings: z.array(z.string()),
});
export type KeysOverviewRecord = z.infer<typeof keysOverviewSchema>;
export const keysResponseSchema = z.object({ keys: keysOverviewSchema });

/** The monitoring service's commands (spread into COMMANDS). */
export const MONITORING_COMMAND_SCHEMAS = {
  drill: { request: versioned(1, runDrillRequestSchema.shape), reply: versioned(1, { drills: z.array(drillRecordSchema) }) },
  compliance: { request: versioned(1, {}), reply: versioned(1, { report: complianceReportSchema }) },
  keys: { request: versioned(1, {}), reply: versioned(1, { keys: keysOverviewSchema }) },
} as const;
