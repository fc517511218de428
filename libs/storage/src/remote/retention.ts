import { UnsupportedError, UsageError } from '@tresor/errors';
import type { PutOptions } from '../object-store.js';

/** Refuses a retention request on a store that cannot enforce it, rather than storing the object unprotected. */
export function refuseRetention(options: PutOptions, location: string): void {
  if (options.retainUntil !== undefined) {
    throw new UnsupportedError(
      `${location} cannot keep objects immutable (no server-enforced retention); store retained archives on a backend with immutability`,
    );
  }
}

/** Throws UsageError unless a requested retention ends in the future. */
export function validateRetention(options: PutOptions): void {
  const until = options.retainUntil;
  if (until === undefined) return;
  if (!(until instanceof Date) || Number.isNaN(until.getTime())) {
    throw new UsageError('retainUntil is not a valid date');
  }
  if (until.getTime() <= Date.now()) {
    throw new UsageError(`retainUntil ${until.toISOString()} is not in the future`);
  }
}
