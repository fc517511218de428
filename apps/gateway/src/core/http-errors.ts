import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { Catch, HttpException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { isMongoUnreachable } from '@tresor/catalog';
import { TresorError, UnavailableError } from '@tresor/errors';
import { toErrorBody } from '@tresor/messaging';

/** The HTTP status of each error code (docs/api.md#errors lists them, ADR 30 the 502/503 rule). */
export const HTTP_STATUS_OF_CODE: Readonly<Record<string, number>> = { USAGE: 400, NOT_FOUND: 404, CONFLICT: 409, WRONG_KEY: 403, UNAUTHENTICATED: 401, FORBIDDEN: 403, RATE_LIMITED: 429, TOO_LARGE: 413, INTEGRITY: 422, UNSUPPORTED: 501, IO: 502, UNAVAILABLE: 503 };

/** Every error leaves the gateway as `{ error: { code, message } }` with a fitting status. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  catch(err: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (err instanceof HttpException) {
      const status = err.getStatus();
      const body = err.getResponse();
      void reply.status(status).send(typeof body === 'object' && body !== null && 'status' in body ? body : { error: { code: status === 404 ? 'NOT_FOUND' : 'USAGE', message: err.message } });
      return;
    }
    const known = err instanceof TresorError ? err : mongoUnreachable(err);
    const status = known ? (HTTP_STATUS_OF_CODE[known.code] ?? 500) : 500;
    void reply.status(status).send(toErrorBody(known ?? err));
  }
}

/** A MongoDB-wire server the gateway cannot reach (a restart, an outage) is a 503, not an internal error. */
function mongoUnreachable(err: unknown): UnavailableError | undefined {
  if (!isMongoUnreachable(err)) return undefined;
  return new UnavailableError(`cannot reach the MongoDB-wire server (catalog, jobs): ${(err as Error).message}`, { cause: err });
}
