import { UsageError } from '@tresor/errors';
import type { ByteRange } from './object-store.js';

const sha256Pattern = /^[0-9a-f]{64}$/;

/** The expected hash in lower case, or UsageError if it is not a SHA-256 hex digest. */
export function normalizeExpectedSha256(expected: string | undefined): string | undefined {
  if (expected === undefined) return undefined;
  const normalized = expected.toLowerCase();
  if (!sha256Pattern.test(normalized)) {
    throw new UsageError(`expected SHA-256 ${JSON.stringify(expected)} is not 64 hex digits`);
  }
  return normalized;
}

/** Throws UsageError unless the range's offset and length are non-negative integers. */
export function validateByteRange(range: ByteRange | undefined): void {
  if (range === undefined) return;
  if (!Number.isSafeInteger(range.offset) || range.offset < 0) {
    throw new UsageError(`range offset ${range.offset} is not a non-negative integer`);
  }
  if (range.length !== undefined && (!Number.isSafeInteger(range.length) || range.length < 0)) {
    throw new UsageError(`range length ${range.length} is not a non-negative integer`);
  }
}
