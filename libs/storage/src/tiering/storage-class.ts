import { IoError, UnsupportedError, UsageError } from '@tresor/errors';
import type { ObjectStore } from '../object-store.js';

/** Whether the store can move objects between storage classes. */
export function hasStorageClasses(store: ObjectStore): boolean {
  return (store.capabilities.storageClasses?.length ?? 0) > 0 && store.setStorageClass !== undefined;
}

/**
 * Position of `storageClass` from warm (0) to cold in the store's classes; a class the store
 * does not know is a UsageError listing the ones it does.
 */
export function storageClassRank(store: ObjectStore, storageClass: string): number {
  const classes = store.capabilities.storageClasses ?? [];
  const rank = classes.indexOf(storageClass);
  if (rank >= 0) return rank;
  if (classes.length === 0) throw new UnsupportedError(`${store.location} has no storage classes`);
  throw new UsageError(
    `storage class ${storageClass} is not one of ${store.location}: ${classes.join(', ')}`,
  );
}

/** What a read of an object in a cold class needs before it can succeed. */
export type ColdObjectState = 'needs-restore' | 'restore-in-progress';

/**
 * A read refused because the object is in an offline class (S3 GLACIER/DEEP_ARCHIVE, Azure
 * Archive): the message says what to run. An IoError (exit 8), so a replicated read falls back
 * to another location's copy.
 */
export class ColdObjectError extends IoError {
  constructor(
    readonly key: string,
    readonly storeLocation: string,
    readonly storageClass: string,
    readonly state: ColdObjectState,
    options?: { cause?: unknown },
  ) {
    super(coldMessage(key, storeLocation, storageClass, state), options);
  }
}

function coldMessage(key: string, location: string, storageClass: string, state: ColdObjectState): string {
  const where = `object ${key} is in the ${storageClass} storage class of ${location}`;
  if (state === 'restore-in-progress')
    return `${where} and its restore is in progress: retry when it has finished (hours, depending on the class and priority)`;
  return `${where} and cannot be read until it is restored: run \`tresor storage rehydrate ${key}\` and retry when it has finished`;
}
