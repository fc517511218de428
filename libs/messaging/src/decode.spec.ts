import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MAX_MESSAGE_BYTES } from '@tresor/contracts';
import { IntegrityError, NotFoundError, TresorError, UsageError } from '@tresor/errors';
import { decodeMessage, encodeJson } from './decode.js';
import { fromErrorBody, MalformedMessageError, toErrorBody } from './errors.js';

const schema = z.object({ v: z.literal(1), key: z.string().min(1), n: z.number().int().optional() });
const enc = (s: string): Uint8Array => Buffer.from(s);
const refusal = (data: Uint8Array): MalformedMessageError => {
  try {
    decodeMessage(data, schema, 1, 'storage.head');
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedMessageError);
    expect(err).toBeInstanceOf(UsageError);
    return err as MalformedMessageError;
  }
  throw new Error('expected a refusal');
};

describe('decodeMessage', () => {
  it('returns the parsed body of a valid message, also from a view into a larger buffer', () => {
    expect(decodeMessage(encodeJson({ v: 1, key: 'a', n: 2 }), schema, 1, 'x')).toEqual({ v: 1, key: 'a', n: 2 });
    const framed = Buffer.from(`xx${JSON.stringify({ v: 1, key: 'b' })}yy`);
    expect(decodeMessage(framed.subarray(2, framed.length - 2), schema, 1, 'x')).toEqual({ v: 1, key: 'b' });
  });

  it('refuses an oversized message before parsing it', () => {
    expect(refusal(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20)).message).toMatch(/exceeds the limit/);
  });

  it('refuses invalid JSON and JSON that is not an object', () => {
    expect(refusal(enc('{not json')).message).toBe('storage.head: message is not valid JSON');
    expect(refusal(enc('')).message).toMatch(/not valid JSON/);
    expect(refusal(enc('null')).message).toMatch(/not a JSON object/);
    expect(refusal(enc('42')).message).toMatch(/not a JSON object/);
  });

  it('refuses a missing or different schema version', () => {
    expect(refusal(enc('{"key":"a"}')).message).toMatch(/no schema version \(field v\)/);
    expect(refusal(enc('{"v":2,"key":"a"}')).message).toMatch(/unsupported schema version 2 \(this service speaks 1\)/);
    expect(refusal(enc('{"v":"1","key":"a"}')).message).toMatch(/unsupported schema version "1"/);
  });

  it('names the failing field of a schema violation, never its content', () => {
    expect(refusal(enc('{"v":1}')).message).toMatch(/^storage\.head: key: /);
    const secret = 'passphrase-that-must-not-leak';
    const m = refusal(enc(JSON.stringify({ v: 1, key: 'a', n: secret }))).message;
    expect(m).toMatch(/^storage\.head: n: /);
    expect(m).not.toContain(secret);
  });
});

describe('error bodies', () => {
  it('carries typed errors across the wire with their code', () => {
    const back = fromErrorBody(toErrorBody(new NotFoundError('backup x not found')));
    expect(back).toBeInstanceOf(NotFoundError);
    expect(back.message).toBe('backup x not found');
    expect(fromErrorBody(toErrorBody(new IntegrityError('bad mac')))).toBeInstanceOf(IntegrityError);
  });

  it('hides the details of internal errors', () => {
    expect(toErrorBody(new Error('stack and secrets'))).toEqual({ error: { code: 'INTERNAL', message: 'internal error (see the service log)' } });
  });

  it('keeps an unknown code as a TresorError with that code', () => {
    const e = fromErrorBody({ error: { code: 'SOMETHING_NEW', message: 'm' } });
    expect(e).toBeInstanceOf(TresorError);
    expect(e.code).toBe('SOMETHING_NEW');
  });
});
