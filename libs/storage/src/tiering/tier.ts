import { UnsupportedError } from '@tresor/errors';
import type { ObjectInfo, ObjectStore } from '../object-store.js';
import type { LifecyclePolicy } from './policy.js';
import { ruleFor } from './policy.js';
import { hasStorageClasses, storageClassRank } from './storage-class.js';

const dayMs = 24 * 60 * 60 * 1000;

/** What tiering did, or would do, with one object. */
export interface TierAction {
  readonly key: string;
  readonly from: string;
  readonly to: string;
  readonly ageDays: number;
  readonly outcome: 'moved' | 'planned' | 'failed';
  readonly detail?: string;
}

export interface TierOptions {
  /** Only objects under this prefix are moved (the repository passes `archives/`). */
  readonly prefix: string;
  /** The time ages are counted to. */
  readonly now: Date;
  /** List what would move without moving anything. */
  readonly dryRun?: boolean;
  /**
   * When the object came to be: the repository gives the backup's time, because a class change
   * on S3 and GCS rewrites the object and resets its modified time. Falls back to `modified`.
   */
  readonly bornAt?: (info: ObjectInfo) => Date | undefined;
}

/**
 * Moves each object under `prefix` to the class of the oldest rule its age has reached, unless it
 * is in that class or a colder one already (tiering never warms an object up, so a rehydrated or
 * deliberately colder object is left alone). Idempotent: a second run finds nothing to do. One
 * object's failure is reported in its action and does not stop the others.
 */
export async function tierObjects(
  store: ObjectStore,
  policy: LifecyclePolicy,
  options: TierOptions,
): Promise<TierAction[]> {
  if (!hasStorageClasses(store)) {
    throw new UnsupportedError(`${store.location} has no storage classes: a lifecycle cannot apply to it`);
  }
  const actions: TierAction[] = [];
  for await (const info of store.list(options.prefix)) {
    const born = options.bornAt?.(info) ?? info.modified;
    if (born === undefined) continue;
    const ageDays = Math.floor((options.now.getTime() - born.getTime()) / dayMs);
    const rule = ruleFor(policy, ageDays);
    if (rule === undefined) continue;
    const classes = store.capabilities.storageClasses!;
    const from = info.storageClass ?? classes[0]!;
    const action = { key: info.key, from, to: rule.storageClass, ageDays };
    if (!classes.includes(from)) {
      actions.push({ ...action, outcome: 'failed', detail: `its class ${from} is not one tiering knows` });
      continue;
    }
    if (storageClassRank(store, from) >= storageClassRank(store, rule.storageClass)) continue;
    if (options.dryRun) {
      actions.push({ ...action, outcome: 'planned' });
      continue;
    }
    try {
      await store.setStorageClass!(info.key, rule.storageClass);
      actions.push({ ...action, outcome: 'moved' });
    } catch (err) {
      actions.push({ ...action, outcome: 'failed', detail: (err as Error).message });
    }
  }
  return actions;
}
