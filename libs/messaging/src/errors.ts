import {
  ConflictError,
  IntegrityError,
  IoError,
  NotFoundError,
  TresorError,
  UnsupportedError,
  UsageError,
  WrongKeyError,
} from '@tresor/errors';
import type { ErrorBody } from '@tresor/contracts';

/** The error body a reply or HTTP response carries; internal errors say only that they happened. */
export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof TresorError) return { error: { code: err.code, message: err.message } };
  return { error: { code: 'INTERNAL', message: 'internal error (see the service log)' } };
}

/** The TresorError an error body stands for, so that callers keep their exit codes across the wire. */
export function fromErrorBody(body: ErrorBody): TresorError {
  const { code, message } = body.error;
  switch (code) {
    case 'USAGE':
      return new UsageError(message);
    case 'NOT_FOUND':
      return new NotFoundError(message);
    case 'WRONG_KEY':
      return new WrongKeyError(message);
    case 'INTEGRITY':
      return new IntegrityError(message);
    case 'CONFLICT':
      return new ConflictError(message);
    case 'UNSUPPORTED':
      return new UnsupportedError(message);
    case 'IO':
      return new IoError(message);
    default:
      return new TresorError(message, code);
  }
}

/** Why a message was refused, for the error reply or dead letter. */
export class MalformedMessageError extends UsageError {}
