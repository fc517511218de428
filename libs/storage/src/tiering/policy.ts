import { UsageError } from '@tresor/errors';
import { z } from 'zod';
import { azureAccessTiers } from '../azure/config.js';
import { gcsStorageClasses } from '../gcs/config.js';
import { s3StorageClasses } from '../s3/config.js';

/** Storage classes per backend, warmest first (what `setStorageClass` accepts); none for file backends. */
export const backendStorageClasses: Readonly<Record<string, readonly string[]>> = {
  s3: s3StorageClasses,
  azure: azureAccessTiers,
  gcs: gcsStorageClasses,
  local: [],
  sftp: [],
  ftp: [],
};

/** The price key of objects on a backend without classes, and the fallback for unlisted classes. */
export const DEFAULT_PRICE_CLASS = 'default';

/** One step of a lifecycle: archives at least `afterDays` old go to `storageClass`. */
export interface TieringRule {
  readonly afterDays: number;
  readonly storageClass: string;
}

/** A location's lifecycle: steps in increasing age, each to a colder class. */
export interface LifecyclePolicy {
  readonly tiering: readonly TieringRule[];
}

/** What a location charges per GiB and month, per storage class. */
export interface PriceTable {
  readonly currency: string;
  readonly perGiBMonth: Readonly<Record<string, number>>;
}

const lifecycleSchema = z
  .object({
    tiering: z
      .array(
        z
          .object({
            afterDays: z.number().int().min(1).max(36_500),
            class: z.string().min(1),
          })
          .strict(),
      )
      .min(1, 'name at least one rule { afterDays, class }'),
  })
  .strict();

const pricesSchema = z
  .object({
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as "USD"')
      .default('USD'),
    perGiBMonth: z
      .record(z.string(), z.number().nonnegative().finite())
      .refine((table) => Object.keys(table).length > 0, 'name the price of at least one class'),
  })
  .strict();

/**
 * Validates the `lifecycle` of a location on `backend`: rules in increasing `afterDays`, each to a
 * class of that backend colder than the previous one (and than the warmest). UsageError naming the field.
 */
export function parseLifecyclePolicy(raw: unknown, backend: string): LifecyclePolicy {
  const parsed = lifecycleSchema.safeParse(raw);
  if (!parsed.success) throw fieldError('lifecycle', parsed.error.issues[0]);
  const classes = backendStorageClasses[backend] ?? [];
  if (classes.length === 0) {
    throw new UsageError(`lifecycle: ${backend} storage has no storage classes to move archives to`);
  }
  let previous = { afterDays: 0, rank: 0 };
  return {
    tiering: parsed.data.tiering.map((rule, i) => {
      const rank = classes.indexOf(rule.class);
      if (rank < 0) {
        throw new UsageError(
          `lifecycle.tiering.${i}.class: ${rule.class} is not a ${backend} storage class (${classes.join(', ')})`,
        );
      }
      if (rule.afterDays <= previous.afterDays || rank <= previous.rank) {
        throw new UsageError(
          `lifecycle.tiering.${i}: rules must go to ever colder classes (${classes.join(' < ')}) after ever more days, and never to ${classes[0]}`,
        );
      }
      previous = { afterDays: rule.afterDays, rank };
      return { afterDays: rule.afterDays, storageClass: rule.class };
    }),
  };
}

/** Validates the `prices` of a location on `backend`: its classes and `default` as keys. */
export function parsePriceTable(raw: unknown, backend: string): PriceTable {
  const parsed = pricesSchema.safeParse(raw);
  if (!parsed.success) throw fieldError('prices', parsed.error.issues[0]);
  const allowed = [...(backendStorageClasses[backend] ?? []), DEFAULT_PRICE_CLASS];
  for (const key of Object.keys(parsed.data.perGiBMonth)) {
    if (!allowed.includes(key)) {
      throw new UsageError(
        `prices.perGiBMonth.${key}: not a ${backend} storage class; use ${allowed.join(', ')}`,
      );
    }
  }
  return parsed.data;
}

/** The rule an archive of `ageDays` falls under (the oldest it has reached), if any. */
export function ruleFor(policy: LifecyclePolicy, ageDays: number): TieringRule | undefined {
  let found: TieringRule | undefined;
  for (const rule of policy.tiering) if (ageDays >= rule.afterDays) found = rule;
  return found;
}

function fieldError(field: string, issue: z.core.$ZodIssue | undefined): UsageError {
  const path = [field, ...(issue?.path ?? [])].join('.');
  return new UsageError(`${path}: ${issue?.message ?? 'invalid'}`);
}
