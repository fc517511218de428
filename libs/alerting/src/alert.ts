import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Alert levels, least severe first (the order routing and escalation compare by). */
export const ALERT_LEVELS = ['INFO', 'WARNING', 'CRITICAL'] as const;
export const alertLevelSchema = z.enum(ALERT_LEVELS);
export type AlertLevel = z.infer<typeof alertLevelSchema>;

/** Rank of a level: INFO 0, WARNING 1, CRITICAL 2. */
export function levelRank(level: AlertLevel): number {
  return ALERT_LEVELS.indexOf(level);
}

/** Detail values stay scalar so every channel can render them as text. */
export const alertDetailsSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
export type AlertDetails = z.infer<typeof alertDetailsSchema>;

/**
 * What a check reports when its condition holds. `rule`, `tenant`, `source` and `key` identify
 * the condition (its fingerprint); level, summary and details describe the latest report of it.
 */
export const alertSignalSchema = z.object({
  rule: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'a rule name is lowercase letters, digits, ".", "_" and "-"'),
  level: alertLevelSchema,
  summary: z.string().min(1).max(500),
  source: z.string().min(1).optional(),
  tenant: z.string().min(1).optional(),
  /** Distinguishes several conditions of one rule on one source (a backup id, a location name). */
  key: z.string().min(1).optional(),
  details: alertDetailsSchema.default({}),
});
export type AlertSignal = z.input<typeof alertSignalSchema>;

/** Identifies the condition a signal reports on. */
export type AlertIdentity = Pick<z.infer<typeof alertSignalSchema>, 'rule' | 'source' | 'tenant' | 'key'>;

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

/** The fingerprint of a condition: the same inputs always give the same string. */
export function fingerprintOf(identity: AlertIdentity): string {
  // JSON of a fixed-order array: no separator inside a value can make two identities collide.
  const canonical = JSON.stringify([identity.rule, identity.tenant ?? null, identity.source ?? null, identity.key ?? null]);
  return `${identity.rule}:${createHash('sha256').update(canonical).digest('hex').slice(0, 12)}`;
}
