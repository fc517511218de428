import { UsageError } from '@tresor/errors';

/** Longest key accepted: the smallest limit among the backends we target (S3: 1024 bytes). */
export const maxKeyLength = 1024;
/** Longest segment accepted: a file name on common filesystems (local, SFTP, FTP). */
export const maxSegmentLength = 255;

const segmentPattern = /^[A-Za-z0-9._-]+$/;

/** True when `name` can be one slash-free segment of a key (files named otherwise are not objects). */
export function isValidKeySegment(name: string): boolean {
  return segmentPattern.test(name) && name !== '.' && name !== '..' && name.length <= maxSegmentLength;
}

/** Throws UsageError unless `key` is a relative, slash-separated key every backend can store. */
export function validateObjectKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new UsageError('object key is empty');
  }
  if (key.length > maxKeyLength) {
    throw new UsageError(`object key ${describe(key)} is longer than ${maxKeyLength} characters`);
  }
  for (const segment of key.split('/')) {
    checkSegment(key, segment);
  }
}

/** Throws UsageError unless `prefix` could start a valid key ('' lists everything). */
export function validateKeyPrefix(prefix: string): void {
  if (typeof prefix !== 'string') {
    throw new UsageError('object key prefix is not a string');
  }
  if (prefix === '') return;
  if (prefix.length > maxKeyLength) {
    throw new UsageError(`object key prefix ${describe(prefix)} is longer than ${maxKeyLength} characters`);
  }
  const segments = prefix.split('/');
  // The last segment may be partial ('archives/ab') or empty ('archives/').
  const last = segments.pop() ?? '';
  for (const segment of segments) checkSegment(prefix, segment);
  if (last !== '' && !segmentPattern.test(last)) {
    throw new UsageError(
      `object key prefix ${describe(prefix)} contains characters other than A-Z a-z 0-9 . _ -`,
    );
  }
}

function checkSegment(key: string, segment: string): void {
  if (segment === '') {
    throw new UsageError(
      `object key ${describe(key)} has an empty segment (leading, trailing or double slash)`,
    );
  }
  if (segment === '.' || segment === '..') {
    throw new UsageError(`object key ${describe(key)} contains a '${segment}' segment`);
  }
  if (segment.length > maxSegmentLength) {
    throw new UsageError(
      `object key ${describe(key)} has a segment longer than ${maxSegmentLength} characters`,
    );
  }
  if (!segmentPattern.test(segment)) {
    throw new UsageError(`object key ${describe(key)} contains characters other than A-Z a-z 0-9 . _ - /`);
  }
}

/** Quotes a key for a one-line message: control characters escaped, long keys shortened. */
function describe(key: string): string {
  const shown = key.length > 80 ? `${key.slice(0, 77)}...` : key;
  return JSON.stringify(shown);
}
