import { UsageError } from '@tresor/errors';
import type { ByteRange } from '../object-store.js';

/** The byte interval [start, end) a range selects in an object of `size` bytes (the contract of ByteRange). */
export function resolveRange(
  range: ByteRange | undefined,
  size: number,
  key: string,
  location: string,
): { start: number; end: number } {
  const start = range?.offset ?? 0;
  if (start > size) {
    throw new UsageError(
      `range offset ${start} is past the end of object ${key} (${size} bytes) in ${location}`,
    );
  }
  const end = range?.length === undefined ? size : Math.min(size, start + range.length);
  return { start, end };
}
