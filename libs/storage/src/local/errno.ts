import { IoError, TresorError } from '@tresor/errors';

const phrases: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENOTDIR: 'a path component is not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'file name too long',
  EBUSY: 'resource busy',
  ESTALE: 'stale file handle',
};

/** True when `err` is a Node system error with one of the given errno codes (any code when none is given). */
export function hasErrno(err: unknown, ...codes: string[]): err is NodeJS.ErrnoException {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    (codes.length === 0 || codes.includes((err as NodeJS.ErrnoException).code!))
  );
}

/**
 * Turns a failure into the error callers see: Tresor errors pass through, system errors become
 * one-line IoErrors prefixed with what was being done, anything else (e.g. the caller's own body
 * stream failing) passes through unchanged.
 */
export function toIoError(err: unknown, doing: string): unknown {
  if (err instanceof TresorError) return err;
  if (hasErrno(err) && err.code !== undefined && err.syscall !== undefined) {
    const phrase = phrases[err.code] ?? err.message;
    return new IoError(`${doing}: ${phrase} (${err.code})`, { cause: err });
  }
  return err;
}
