import type { ArgumentsHost } from '@nestjs/common';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { IoError, UnavailableError } from '@tresor/errors';
import { ErrorFilter } from './http-errors.js';

/** Runs the filter on `err` and returns what it sent: the status and the body. */
function answer(err: unknown): { status: number; body: unknown } {
  const sent = { status: 0, body: undefined as unknown };
  const reply = {
    status(code: number) {
      sent.status = code;
      return this;
    },
    send(body: unknown) {
      sent.body = body;
      return this;
    },
  };
  new ErrorFilter().catch(err, { switchToHttp: () => ({ getResponse: () => reply }) } as unknown as ArgumentsHost);
  return sent;
}

describe('ErrorFilter (ADR 30: 503 unreachable, 502 failed)', () => {
  it('answers a dependency that could not be reached with 503 and one that answered with a failure with 502', () => {
    expect(answer(new UnavailableError('cannot search the directory at ldap://dir:389: ECONNREFUSED'))).toEqual({ status: 503, body: { error: { code: 'UNAVAILABLE', message: 'cannot search the directory at ldap://dir:389: ECONNREFUSED' } } });
    expect(answer(new IoError('request refused: the audit log cannot record it (disk full)')).status).toBe(502);
    expect(answer(new Error('boom'))).toEqual({ status: 500, body: { error: { code: 'INTERNAL', message: 'internal error (see the service log)' } } });
  });

  it('answers the MongoDB driver failing to reach its server with 503 naming the MongoDB-wire server, not 500', async () => {
    const client = new MongoClient('mongodb://127.0.0.1:1/', { serverSelectionTimeoutMS: 300 });
    const err = await client.connect().then(() => undefined, (e: unknown) => e);
    await client.close();
    const { status, body } = answer(err);
    expect(status).toBe(503);
    expect(body).toMatchObject({ error: { code: 'UNAVAILABLE', message: expect.stringMatching(/^cannot reach the MongoDB-wire server \(catalog, jobs\): /) } });
  });
});
