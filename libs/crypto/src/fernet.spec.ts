import { createDecipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UsageError, WrongKeyError } from '@tresor/errors';
import { fernetDecrypt, fernetEncrypt, generateFernetKey } from './fernet.js';

/** Test oracle written from the Fernet spec, independent of fernet.ts. */
function oracleDecrypt(key: string, token: string): { plaintext: Buffer; timestamp: number } {
  const k = Buffer.from(key.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  const t = Buffer.from(token.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  expect(t[0]).toBe(0x80);
  const mac = createHmac('sha256', k.subarray(0, 16)).update(t.subarray(0, t.length - 32)).digest();
  expect(mac.equals(t.subarray(t.length - 32))).toBe(true);
  const d = createDecipheriv('aes-128-cbc', k.subarray(16, 32), t.subarray(9, 25));
  return { plaintext: Buffer.concat([d.update(t.subarray(25, t.length - 32)), d.final()]), timestamp: Number(t.readBigUInt64BE(1)) };
}

describe('Fernet', () => {
  it('produces tokens an independent implementation of the spec opens', () => {
    const key = generateFernetKey();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    for (const size of [0, 1, 15, 16, 17, 1000]) {
      const plaintext = Buffer.alloc(size, size % 251);
      const token = fernetEncrypt(key, plaintext, new Date('2026-11-26T05:00:00Z'));
      expect(token).toMatch(/^[A-Za-z0-9_-]+=*$/);
      expect(token.length % 4).toBe(0);
      const opened = oracleDecrypt(key, token);
      expect(opened.plaintext.equals(plaintext)).toBe(true);
      expect(opened.timestamp).toBe(Date.parse('2026-11-26T05:00:00Z') / 1000);
      expect(fernetDecrypt(key, token).equals(plaintext)).toBe(true);
    }
  });

  it('opens the test vector of the Fernet spec', () => {
    // generate.json of github.com/fernet/spec
    const token =
      'gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==';
    expect(fernetDecrypt('cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=', token).toString()).toBe('hello');
  });

  it('refuses a wrong key, a modified token and a malformed key', () => {
    const key = generateFernetKey();
    const token = fernetEncrypt(key, Buffer.from('secret'));
    expect(() => fernetDecrypt(generateFernetKey(), token)).toThrow(WrongKeyError);
    const bytes = Buffer.from(token, 'base64url');
    bytes[30]! ^= 1;
    expect(() => fernetDecrypt(key, bytes.toString('base64url'))).toThrow(WrongKeyError);
    expect(() => fernetEncrypt('short', Buffer.from('x'))).toThrow(UsageError);
  });
});
