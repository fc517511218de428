import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { Catch, HttpException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { TresorError } from '@tresor/errors';
import { toErrorBody } from '@tresor/messaging';

const STATUS: Record<string, number> = { USAGE: 400, NOT_FOUND: 404, CONFLICT: 409, WRONG_KEY: 403, UNAUTHENTICATED: 401, FORBIDDEN: 403, RATE_LIMITED: 429, TOO_LARGE: 413, INTEGRITY: 422, UNSUPPORTED: 501, IO: 502 };

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
    const status = err instanceof TresorError ? (STATUS[err.code] ?? 500) : 500;
    void reply.status(status).send(toErrorBody(err));
  }
}
