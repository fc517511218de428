import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { IntegrityError, UsageError, WrongKeyError } from '@tresor/errors';
import { generateDataKey } from './data-key.js';
import { RsaPrivateKek, RsaPublicKek } from './rsa-kek.js';
import type { RsaWrap } from './wrapped-key.js';

function rsaPair(bits: number, cipher?: { passphrase: string }) {
  return generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: {
      type: 'pkcs8',
      format: 'pem',
      ...(cipher ? { cipher: 'aes-256-cbc', passphrase: cipher.passphrase } : {}),
    },
  });
}

describe('RSA KEKs', () => {
  let pair: { publicKey: string; privateKey: string };
  let other: { publicKey: string; privateKey: string };
  beforeAll(() => {
    pair = rsaPair(3072);
    other = rsaPair(3072);
  });

  it('wraps with the public key and unwraps with the private key', async () => {
    const dek = generateDataKey();
    const wrapper = RsaPublicKek.fromPem(pair.publicKey);
    const unwrapper = RsaPrivateKek.fromPem(pair.privateKey);
    expect(wrapper.kekId).toMatch(/^rsa:[0-9a-f]{32}$/);
    expect(unwrapper.kekId).toBe(wrapper.kekId);
    const wrapped = await wrapper.wrap(dek);
    expect(Buffer.from((wrapped as RsaWrap).ciphertext, 'base64').length).toBe(384);
    expect(unwrapper.canUnwrap(wrapped)).toBe(true);
    expect((await unwrapper.unwrap(wrapped)).equals(dek)).toBe(true);
  });

  it('reports the wrong private key as WrongKeyError', async () => {
    const wrapped = await RsaPublicKek.fromPem(pair.publicKey).wrap(generateDataKey());
    const wrong = RsaPrivateKek.fromPem(other.privateKey);
    expect(wrong.canUnwrap(wrapped)).toBe(false);
    await expect(wrong.unwrap(wrapped)).rejects.toThrow(WrongKeyError);
    // Even when the kekId is forged to match, OAEP decoding fails with the wrong key.
    await expect(wrong.unwrap({ ...wrapped, kekId: wrong.kekId })).rejects.toThrow(WrongKeyError);
  });

  it('rejects a wrap of the wrong length as malformed', async () => {
    const unwrapper = RsaPrivateKek.fromPem(pair.privateKey);
    const wrapped: RsaWrap = {
      type: 'rsa-oaep-sha256',
      kekId: unwrapper.kekId,
      ciphertext: randomBytes(100).toString('base64'),
    };
    await expect(unwrapper.unwrap(wrapped)).rejects.toThrow(IntegrityError);
  });

  it('refuses RSA keys below 3072 bits', () => {
    const small = rsaPair(2048);
    expect(() => RsaPublicKek.fromPem(small.publicKey)).toThrow(UsageError);
    expect(() => RsaPublicKek.fromPem(small.publicKey)).toThrow(/2048 bits; at least 3072/);
    expect(() => RsaPrivateKek.fromPem(small.privateKey)).toThrow(UsageError);
  });

  it('refuses non-RSA and malformed keys', () => {
    const ed = generateKeyPairSync('ed25519', {
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    expect(() => RsaPublicKek.fromPem(ed.publicKey)).toThrow(/not RSA/);
    expect(() => RsaPublicKek.fromPem('not a key')).toThrow(UsageError);
    expect(() => RsaPrivateKek.fromPem('not a key')).toThrow(UsageError);
  });

  it('accepts a PKCS#1 private key and a passphrase-protected PKCS#8 key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 3072,
      publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const dek = generateDataKey();
    const wrapped = await RsaPublicKek.fromPem(publicKey).wrap(dek);
    expect((await RsaPrivateKek.fromPem(privateKey).unwrap(wrapped)).equals(dek)).toBe(true);

    const locked = rsaPair(3072, { passphrase: 'hunter2' });
    const lockedWrap = await RsaPublicKek.fromPem(locked.publicKey).wrap(dek);
    expect((await RsaPrivateKek.fromPem(locked.privateKey, 'hunter2').unwrap(lockedWrap)).equals(dek)).toBe(
      true,
    );
    expect(() => RsaPrivateKek.fromPem(locked.privateKey)).toThrow(/encrypted: supply its passphrase/);
    expect(() => RsaPrivateKek.fromPem(locked.privateKey, 'wrong')).toThrow(WrongKeyError);
  });
});
