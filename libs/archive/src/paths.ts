import { IntegrityError } from '@tresor/errors';

/** Longest entry path accepted, in UTF-8 bytes (Linux PATH_MAX). */
export const MAX_ENTRY_PATH_BYTES = 4096;

const WINDOWS_DRIVE = /^[A-Za-z]:/;
/** An empty, '.' or '..' segment anywhere: tested once per path instead of splitting every path. */
const BAD_SEGMENT = /(?:^|\/)\.{0,2}(?:\/|$)/;
const MESSAGE_PATH_CHARS = 200;

/**
 * IntegrityError unless `path` is a safe relative POSIX path: restores join it under a target
 * directory, so anything that could climb out of it or mean something else on Windows is refused.
 */
export function validateEntryPath(path: string): void {
  const problem = entryPathProblem(path);
  if (problem !== undefined) throw new IntegrityError(`unsafe entry path ${quotePath(path)}: ${problem}`);
}

/** Why `path` is unsafe, or undefined when it is fine. */
export function entryPathProblem(path: unknown): string | undefined {
  if (typeof path !== 'string') return 'it is not a string';
  if (path.length === 0) return 'it is empty';
  // A UTF-16 code unit is at most 3 UTF-8 bytes: most paths need no count.
  if (path.length * 3 > MAX_ENTRY_PATH_BYTES && Buffer.byteLength(path, 'utf8') > MAX_ENTRY_PATH_BYTES)
    return `it is longer than ${MAX_ENTRY_PATH_BYTES} bytes`;
  if (path.includes('\0')) return 'it contains a NUL byte';
  if (path.includes('\\')) return 'it contains a backslash, a separator on Windows';
  if (path.startsWith('/')) return 'it is absolute';
  if (WINDOWS_DRIVE.test(path)) return 'it starts with a Windows drive letter';
  if (!BAD_SEGMENT.test(path)) return undefined;
  for (const segment of path.split('/')) {
    if (segment === '') return 'it has an empty segment';
    if (segment === '.' || segment === '..') return `it has a '${segment}' segment`;
  }
  return undefined;
}

/** A path quoted for a one-line message: control characters escaped, long paths shortened. */
export function quotePath(path: unknown): string {
  const text = typeof path === 'string' ? path : String(path);
  const short = text.length > MESSAGE_PATH_CHARS ? `${text.slice(0, MESSAGE_PATH_CHARS)}…` : text;
  // eslint-disable-next-line no-control-regex
  return `'${short.replace(/[\u0000-\u001f\u007f']/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}'`;
}
