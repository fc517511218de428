import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IntegrityError, UsageError } from '@tresor/errors';
import { checkKdfParams, deriveKek, newKdfParams } from './kdf.js';
import type { KdfParams } from './wrapped-key.js';

const salt = randomBytes(16).toString('base64');
const fastArgon: KdfParams = { alg: 'argon2id', memoryKiB: 19 * 1024, iterations: 2, parallelism: 1, salt };
const fastScrypt: KdfParams = { alg: 'scrypt', N: 2 ** 15, r: 8, p: 1, salt };
const pbkdf2: KdfParams = { alg: 'pbkdf2-sha256', iterations: 600_000, salt };

describe('newKdfParams', () => {
  it('defaults to argon2id, 64 MiB, 3 passes, 1 lane, 16-byte salt', () => {
    const params = newKdfParams();
    expect(params).toMatchObject({ alg: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 1 });
    expect(Buffer.from(params.salt, 'base64').length).toBe(16);
    expect(newKdfParams().salt).not.toBe(params.salt);
  });

  it('offers scrypt N=2^17, r=8, p=1', () => {
    expect(newKdfParams('scrypt')).toMatchObject({ alg: 'scrypt', N: 131072, r: 8, p: 1 });
  });

  it('offers PBKDF2-HMAC-SHA256 with 600,000 iterations', () => {
    expect(newKdfParams('pbkdf2-sha256')).toMatchObject({ alg: 'pbkdf2-sha256', iterations: 600_000 });
  });

  it('rejects unknown algorithms', () => {
    expect(() => newKdfParams('pbkdf2' as 'scrypt')).toThrow(UsageError);
  });
});

describe('deriveKek', () => {
  it.each([fastArgon, fastScrypt, pbkdf2])('is deterministic per passphrase and salt ($alg)', async (params) => {
    const a = await deriveKek('correct horse', params);
    expect(a.length).toBe(32);
    expect((await deriveKek('correct horse', params)).equals(a)).toBe(true);
    expect((await deriveKek('correct horsf', params)).equals(a)).toBe(false);
  });

  it('normalises the passphrase to NFC', async () => {
    const composed = await deriveKek('caf\u00e9', fastArgon);
    expect((await deriveKek('cafe\u0301', fastArgon)).equals(composed)).toBe(true);
  });

  it('derives with the default parameters', async () => {
    expect((await deriveKek('pw', newKdfParams('argon2id'))).length).toBe(32);
    expect((await deriveKek('pw', newKdfParams('scrypt'))).length).toBe(32);
  });

  it('refuses an empty passphrase', async () => {
    await expect(deriveKek('', fastArgon)).rejects.toThrow(UsageError);
  });
});

describe('checkKdfParams', () => {
  it.each<[string, KdfParams, RegExp]>([
    ['argon2id memory', { ...fastArgon, memoryKiB: 1024 }, /argon2id memory 1024 KiB is below the minimum/],
    ['argon2id iterations', { ...fastArgon, iterations: 1 }, /iterations 1 is below/],
    ['argon2id huge memory', { ...fastArgon, memoryKiB: 2 ** 30 }, /above the maximum/],
    ['scrypt N', { ...fastScrypt, N: 2 ** 14 }, /scrypt N 16384 is below the minimum/],
    ['scrypt N power of two', { ...fastScrypt, N: 2 ** 15 + 1 }, /not a power of two/],
    ['scrypt r', { ...fastScrypt, r: 1 }, /scrypt r 1 is below/],
    ['pbkdf2 iterations', { ...pbkdf2, iterations: 599_999 }, /pbkdf2-sha256 iterations 599999 is below the minimum of 600000/],
    ['pbkdf2 huge iterations', { ...pbkdf2, iterations: 2 ** 40 }, /above the maximum/],
    ['short salt', { ...fastArgon, salt: randomBytes(8).toString('base64') }, /salt length 8 bytes/],
  ])('refuses weak or absurd %s', (_what, params, message) => {
    expect(() => checkKdfParams(params)).toThrow(IntegrityError);
    expect(() => checkKdfParams(params)).toThrow(message);
  });
});

describe('PBKDF2-HMAC-SHA256', () => {
  it('matches an independent derivation (RFC 8018 via WebCrypto)', async () => {
    const base = await crypto.subtle.importKey('raw', Buffer.from('pässword'.normalize('NFC')), 'PBKDF2', false, ['deriveBits']);
    const bits = await crypto.subtle.deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt: Buffer.from(salt, 'base64'), iterations: 600_000 },
      base,
      256,
    );
    expect((await deriveKek('pässword', pbkdf2)).equals(Buffer.from(bits))).toBe(true);
  });
});
