import { z } from 'zod';
import { UsageError } from '@tresor/errors';
import { Buckets } from './buckets.js';
import type { Period } from './buckets.js';
import { parseDuration } from './duration.js';
import type { CalendarDuration } from './duration.js';

const count = z.number().int().min(0).max(1_000_000);

/**
 * Which backups of one source to keep (docs/retention.md). A backup is kept if any rule keeps
 * it; `maxBackups` then caps how many the rules keep. Counts of 0 mean "rule off", as in restic.
 */
export const retentionPolicySchema = z
  .object({
    keepLast: count.optional(),
    keepHourly: count.optional(),
    keepDaily: count.optional(),
    keepWeekly: count.optional(),
    keepMonthly: count.optional(),
    keepYearly: count.optional(),
    /** Keep backups taken within this duration (`30d`, `1y6m`) before the source's newest backup. */
    keepWithin: z.string().optional(),
    /** Keep every backup carrying one of these tags. */
    keepTags: z.array(z.string().min(1)).optional(),
    /** The seed system's `retention_days`: keep backups not older than this many days (counted from now). */
    retentionDays: z.number().int().min(1).max(100_000).optional(),
    /** The seed system's `max_backups`: at most this many backups are kept by the rules. */
    maxBackups: z.number().int().min(1).max(1_000_000).optional(),
    /** IANA time zone whose calendar the hourly … yearly buckets follow; default UTC. */
    timeZone: z.string().optional(),
  })
  .strict();
/** The rules of a policy; `RetentionPolicy` (select.ts) is the public name. */
export type RetentionRules = z.infer<typeof retentionPolicySchema>;

/** Where `tresor.json` keeps policies: a default for every source and overrides by source location. */
export const retentionConfigSchema = z
  .object({
    default: retentionPolicySchema.optional(),
    sources: z.record(z.string().min(1), retentionPolicySchema).optional(),
  })
  .strict();
export type RetentionConfig = z.infer<typeof retentionConfigSchema>;

/** The counting rules, in the order their reasons are listed. */
export const PERIOD_RULES: readonly { readonly rule: keyof RetentionRules; readonly flag: string; readonly period: Period }[] = [
  { rule: 'keepHourly', flag: 'keep-hourly', period: 'hourly' },
  { rule: 'keepDaily', flag: 'keep-daily', period: 'daily' },
  { rule: 'keepWeekly', flag: 'keep-weekly', period: 'weekly' },
  { rule: 'keepMonthly', flag: 'keep-monthly', period: 'monthly' },
  { rule: 'keepYearly', flag: 'keep-yearly', period: 'yearly' },
];

/** A policy checked and made ready to apply. */
export interface CompiledPolicy {
  readonly policy: RetentionRules;
  readonly within?: CalendarDuration;
  readonly buckets: Buckets;
}

/** Checks a policy (counts, duration, time zone) and prepares it; UsageError naming what is wrong. */
export function compilePolicy(policy: RetentionRules, what = 'retention policy'): CompiledPolicy {
  const parsed = retentionPolicySchema.safeParse(policy);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`${what}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const p = parsed.data;
  if (!hasRule(p)) {
    throw new UsageError(
      `${what} has no rule, so nothing would be kept: give at least one of keep-last, keep-hourly, keep-daily, keep-weekly, keep-monthly, keep-yearly, keep-within, keep-tag, retention_days, max_backups`,
    );
  }
  return {
    policy: p,
    ...(p.keepWithin !== undefined ? { within: parseDuration(p.keepWithin, `${what}: keep-within`) } : {}),
    buckets: Buckets.of(p.timeZone ?? 'UTC'),
  };
}

/** True when the policy says anything (a policy without rules would forget everything). */
export function hasRule(p: RetentionRules): boolean {
  return (
    !!p.keepLast ||
    PERIOD_RULES.some(({ rule }) => !!p[rule]) ||
    p.keepWithin !== undefined ||
    (p.keepTags?.length ?? 0) > 0 ||
    p.retentionDays !== undefined ||
    p.maxBackups !== undefined
  );
}
