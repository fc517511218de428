const phrases: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
  ELOOP: 'is a symbolic link',
  ENOTDIR: 'a path component is not a directory',
  EISDIR: 'is a directory',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENAMETOOLONG: 'file name too long',
  ESTALE: 'stale file handle',
};

/** The errno code of a Node system error, if it is one. */
export function errnoOf(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** "permission denied (EACCES)": an errno failure in words, without the path Node puts in messages. */
export function describeErrno(err: unknown): string {
  const code = errnoOf(err);
  if (code === undefined) return err instanceof Error ? err.message : String(err);
  const fromMessage = /^[A-Z0-9_]+: ([^,]+)/.exec((err as Error).message)?.[1];
  return `${phrases[code] ?? fromMessage ?? 'system error'} (${code})`;
}

/** A system error as a worker thread sends it: what errnoError needs to rebuild it. */
export interface ErrnoFailure {
  readonly code?: string;
  readonly errno?: number;
  readonly syscall?: string;
  readonly message: string;
}

/** The source of `failure(err)` for worker threads: a system error as an ErrnoFailure. */
export const FAILURE_SOURCE = `
const failure = (err) => ({ code: err.code, errno: err.errno, syscall: err.syscall, message: err.message });
`;

/** A system error sent by a worker thread, as the main thread's fs calls would have thrown it (code, errno, syscall). */
export function errnoError(failure: ErrnoFailure): NodeJS.ErrnoException {
  return Object.assign(new Error(failure.message), failure) as NodeJS.ErrnoException;
}
