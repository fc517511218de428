import { redactText } from './redact.js';

/**
 * Base class of every error Tresor raises on purpose. `code` is stable and machine-readable;
 * `exitCode` is what the CLI exits with (see docs/cli.md). The message is one line that names
 * the object at fault and, where there is one, the fix; it never contains secret material
 * (registered secrets and URL passwords are replaced here, whoever built the message).
 */
export class TresorError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: number = ExitCode.Failure,
    options?: { cause?: unknown },
  ) {
    super(redactText(message), options);
    this.name = new.target.name;
  }
}

/** Process exit codes shared by every command (documented in docs/cli.md). */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  NotFound: 3,
  WrongKey: 4,
  Integrity: 5,
  Conflict: 6,
  Unsupported: 7,
  Io: 8,
  Unauthenticated: 9,
  Forbidden: 10,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Bad input from the user: an option, a path, a value out of range. */
export class UsageError extends TresorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'USAGE', ExitCode.Usage, options);
  }
}

/** A named object (backup, repository, entry) does not exist. */
export class NotFoundError extends TresorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'NOT_FOUND', ExitCode.NotFound, options);
  }
}

/** The passphrase or private key given cannot unlock the data. */
export class WrongKeyError extends TresorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'WRONG_KEY', ExitCode.WrongKey, options);
  }
}

/** Stored data fails a hash, tag or signature check, or does not parse as what it claims to be. */
export class IntegrityError extends TresorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'INTEGRITY', ExitCode.Integrity, options);
  }
}

/** The action would change or lose something that exists (non-empty target, existing repository). */
export class ConflictError extends TresorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'CONFLICT', ExitCode.Conflict, options);
  }
}

/** Data written by a newer format version, or a feature this build does not have. */
export class UnsupportedError extends TresorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'UNSUPPORTED', ExitCode.Unsupported, options);
  }
}

/** The filesystem or a storage backend failed (missing file, permission denied, disk full). */
export class IoError extends TresorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'IO', ExitCode.Io, options);
  }
}

/**
 * A dependency that must be asked (the LDAP directory, Redis, the audit log, another service over
 * NATS, the MongoDB-wire server) could not be reached or did not answer in time. The request can be
 * sent again later, with the same Idempotency-Key when it changes state (a request that timed out
 * may have taken effect). HTTP 503; for the CLI an I/O failure (exit 8).
 */
export class UnavailableError extends IoError {
  override readonly code: string = 'UNAVAILABLE';
}

/** No valid credentials: missing, wrong, expired or revoked login, token or session (HTTP 401). */
export class UnauthenticatedError extends TresorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'UNAUTHENTICATED', ExitCode.Unauthenticated, options);
  }
}

/** Authenticated, but the role or tenant does not allow the action (HTTP 403). */
export class ForbiddenError extends TresorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'FORBIDDEN', ExitCode.Forbidden, options);
  }
}

/** Too many at once (HTTP 429): failed logins for a user or from an address (locked out for a while), or open event streams of a caller. */
export class RateLimitedError extends TresorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'RATE_LIMITED', ExitCode.Unauthenticated, options);
  }
}

/** A request or message larger than a limit allows (HTTP 413); the message names the limit. */
export class TooLargeError extends TresorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'TOO_LARGE', ExitCode.Usage, options);
  }
}

const ERROR_CLASSES: Record<string, new (message: string) => TresorError> = {
  USAGE: UsageError,
  NOT_FOUND: NotFoundError,
  WRONG_KEY: WrongKeyError,
  INTEGRITY: IntegrityError,
  CONFLICT: ConflictError,
  UNSUPPORTED: UnsupportedError,
  IO: IoError,
  UNAVAILABLE: UnavailableError,
  UNAUTHENTICATED: UnauthenticatedError,
  FORBIDDEN: ForbiddenError,
  RATE_LIMITED: RateLimitedError,
  TOO_LARGE: TooLargeError,
};

/**
 * The typed error a stable `code` stands for (as sent over NATS or HTTP), so a caller on the
 * other side keeps the class and exit code; undefined for codes that have no class here.
 */
export function errorFromCode(code: string, message: string): TresorError | undefined {
  const ErrorClass = ERROR_CLASSES[code];
  return ErrorClass ? new ErrorClass(message) : undefined;
}
