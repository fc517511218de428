import { errorFromCode, TresorError, UsageError } from '@tresor/errors';
import type { ErrorBody } from '@tresor/contracts';

/** The error body a reply or HTTP response carries; internal errors say only that they happened. */
export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof TresorError) return { error: { code: err.code, message: err.message } };
  return { error: { code: 'INTERNAL', message: 'internal error (see the service log)' } };
}

/** The TresorError an error body stands for, so that callers keep their exit codes across the wire. */
export function fromErrorBody(body: ErrorBody): TresorError {
  const { code, message } = body.error;
  return errorFromCode(code, message) ?? new TresorError(message, code);
}

/** Why a message was refused, for the error reply or dead letter. */
export class MalformedMessageError extends UsageError {}
