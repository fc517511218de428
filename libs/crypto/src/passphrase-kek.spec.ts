import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { IntegrityError, UsageError, WrongKeyError } from '@tresor/errors';
import { generateDataKey } from './data-key.js';
import { passphraseKekId, PassphraseKek, passphraseUnwrapper } from './passphrase-kek.js';
import { wrappedKeySchema } from './wrapped-key.js';
import type { KdfParams, PassphraseWrap } from './wrapped-key.js';

const params: KdfParams = {
  alg: 'argon2id',
  memoryKiB: 19 * 1024,
  iterations: 2,
  parallelism: 1,
  salt: randomBytes(16).toString('base64'),
};

describe('PassphraseKek', () => {
  let kek: PassphraseKek;
  beforeAll(async () => {
    kek = await PassphraseKek.derive('open sesame', params);
  });

  it('wraps and unwraps a data key, with a kekId derived from the salt alone', async () => {
    const dek = generateDataKey();
    const wrapped = await kek.wrap(dek);
    expect(wrappedKeySchema.parse(JSON.parse(JSON.stringify(wrapped)))).toEqual(wrapped);
    expect(wrapped.kekId).toBe(passphraseKekId(params.salt));
    expect(wrapped.kekId).toMatch(/^passphrase:[0-9a-f]{16}$/);
    expect(kek.canUnwrap(wrapped)).toBe(true);
    expect((await kek.unwrap(wrapped)).equals(dek)).toBe(true);
  });

  it('uses a fresh nonce for every wrap', async () => {
    const dek = generateDataKey();
    const [a, b] = [(await kek.wrap(dek)) as PassphraseWrap, (await kek.wrap(dek)) as PassphraseWrap];
    expect(a.nonce).not.toBe(b.nonce);
  });

  it('reports a wrong passphrase as WrongKeyError', async () => {
    const wrapped = await kek.wrap(generateDataKey());
    const other = await PassphraseKek.derive('open sesame!', params);
    await expect(other.unwrap(wrapped)).rejects.toThrow(WrongKeyError);
    await expect(other.unwrap(wrapped)).rejects.toThrow(/wrong passphrase/);
  });

  it('does not unwrap a wrap made under another salt', async () => {
    const other = await PassphraseKek.derive('open sesame', {
      ...params,
      salt: randomBytes(16).toString('base64'),
    });
    const wrapped = await other.wrap(generateDataKey());
    expect(kek.canUnwrap(wrapped)).toBe(false);
    await expect(kek.unwrap(wrapped)).rejects.toThrow(WrongKeyError);
  });

  it('rejects a wrap whose kekId or sizes were tampered with', async () => {
    const wrapped = (await kek.wrap(generateDataKey())) as PassphraseWrap;
    await expect(kek.unwrap({ ...wrapped, kekId: 'passphrase:0000000000000000' })).rejects.toThrow(
      IntegrityError,
    );
    await expect(kek.unwrap({ ...wrapped, nonce: randomBytes(8).toString('base64') })).rejects.toThrow(
      IntegrityError,
    );
    await expect(kek.unwrap({ ...wrapped, ciphertext: randomBytes(40).toString('base64') })).rejects.toThrow(
      IntegrityError,
    );
  });

  it('detects a flipped bit in the wrapped ciphertext', async () => {
    const wrapped = (await kek.wrap(generateDataKey())) as PassphraseWrap;
    const bytes = Buffer.from(wrapped.ciphertext, 'base64');
    bytes[0]! ^= 1;
    await expect(kek.unwrap({ ...wrapped, ciphertext: bytes.toString('base64') })).rejects.toThrow(
      WrongKeyError,
    );
  });

  it('refuses a wrap whose KDF parameters were downgraded', async () => {
    const wrapped = (await kek.wrap(generateDataKey())) as PassphraseWrap;
    const weak = { ...wrapped, kdf: { ...params, memoryKiB: 8 } };
    await expect(passphraseUnwrapper('open sesame').unwrap(weak)).rejects.toThrow(IntegrityError);
    await expect(
      PassphraseKek.derive('open sesame', { alg: 'scrypt', N: 1024, r: 8, p: 1, salt: params.salt }),
    ).rejects.toThrow(/below the minimum/);
  });

  it('refuses data keys of the wrong size', async () => {
    await expect(kek.wrap(randomBytes(16))).rejects.toThrow(UsageError);
  });

  it('works with scrypt', async () => {
    const scryptKek = await PassphraseKek.derive('pw', PassphraseKek.newKdfParams('scrypt'));
    const dek = generateDataKey();
    const wrapped = await scryptKek.wrap(dek);
    expect((await passphraseUnwrapper('pw').unwrap(wrapped)).equals(dek)).toBe(true);
    await expect(passphraseUnwrapper('pw2').unwrap(wrapped)).rejects.toThrow(WrongKeyError);
  });
});

describe('PassphraseKek with PBKDF2-SHA256', () => {
  it('wraps with 600,000 iterations and refuses a wrap whose iterations were lowered', async () => {
    const kek = await PassphraseKek.derive('open sesame', PassphraseKek.newKdfParams('pbkdf2-sha256'));
    const dek = generateDataKey();
    const wrapped = (await kek.wrap(dek)) as PassphraseWrap;
    expect(wrapped.kdf).toMatchObject({ alg: 'pbkdf2-sha256', iterations: 600_000 });
    expect((await passphraseUnwrapper('open sesame').unwrap(wrapped)).equals(dek)).toBe(true);
    const weakened = { ...wrapped, kdf: { ...wrapped.kdf, iterations: 1000 } } as PassphraseWrap;
    await expect(passphraseUnwrapper('open sesame').unwrap(weakened)).rejects.toThrow(IntegrityError);
    await expect(passphraseUnwrapper('open sesame').unwrap(weakened)).rejects.toThrow(/below the minimum of 600000/);
  });
});
