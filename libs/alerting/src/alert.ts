import { createHash } from 'node:crypto';
import { z } from 'zod';

// The records themselves are contracts: the gateway API and libs/client list them too.
import { ALERT_LEVELS, alertDetailsSchema, alertLevelSchema } from '@tresor/contracts';
import type { AlertLevel } from '@tresor/contracts';
export { ALERT_LEVELS, alertDetailsSchema, alertLevelSchema, alertSchema, alertStateSchema } from '@tresor/contracts';
export type { Alert, AlertDetails, AlertLevel, AlertState } from '@tresor/contracts';

/** Rank of a level: INFO 0, WARNING 1, CRITICAL 2. */
export function levelRank(level: AlertLevel): number {
  return ALERT_LEVELS.indexOf(level);
}

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

/** The fingerprint of a condition: the same inputs always give the same string. */
export function fingerprintOf(identity: AlertIdentity): string {
  // JSON of a fixed-order array: no separator inside a value can make two identities collide.
  const canonical = JSON.stringify([identity.rule, identity.tenant ?? null, identity.source ?? null, identity.key ?? null]);
  return `${identity.rule}:${createHash('sha256').update(canonical).digest('hex').slice(0, 12)}`;
}
