import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IntegrityError, UsageError, WrongKeyError } from '@tresor/errors';
import { generateDataKey } from './data-key.js';
import { wrappedKeySchema } from './wrapped-key.js';
import type { X25519Wrap } from './wrapped-key.js';
import { X25519PrivateKek, X25519PublicKek } from './x25519-kek.js';

function pair() {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

describe('X25519 recipients', () => {
  it('wraps to the public key and unwraps only with the matching private key', async () => {
    const a = pair();
    const dek = generateDataKey();
    const wrapper = X25519PublicKek.fromPem(a.publicPem);
    const wrapped = (await wrapper.wrap(dek)) as X25519Wrap;
    expect(wrappedKeySchema.parse(JSON.parse(JSON.stringify(wrapped)))).toEqual(wrapped);
    expect(wrapped.kekId).toMatch(/^x25519:[0-9a-f]{32}$/);
    const opener = X25519PrivateKek.fromPem(a.privatePem);
    expect(opener.kekId).toBe(wrapper.kekId);
    expect(opener.canUnwrap(wrapped)).toBe(true);
    expect((await opener.unwrap(wrapped)).equals(dek)).toBe(true);
    // Fresh ephemeral key per wrap.
    expect(((await wrapper.wrap(dek)) as X25519Wrap).ephemeralPublicKey).not.toBe(wrapped.ephemeralPublicKey);

    const other = X25519PrivateKek.fromPem(pair().privatePem);
    expect(other.canUnwrap(wrapped)).toBe(false);
    await expect(other.unwrap(wrapped)).rejects.toThrow(WrongKeyError);
    await expect(other.unwrap({ ...wrapped, kekId: other.kekId })).rejects.toThrow(WrongKeyError);
  });

  it('follows the construction in docs/format.md (independent decryption)', async () => {
    const a = pair();
    const dek = generateDataKey();
    const wrapped = (await X25519PublicKek.fromPem(a.publicPem).wrap(dek)) as X25519Wrap;
    const eph = Buffer.from(wrapped.ephemeralPublicKey, 'base64');
    const recipient = Buffer.from(createPublicKey(a.publicPem).export({ format: 'jwk' }).x!, 'base64url');
    const shared = diffieHellman({
      privateKey: createPrivateKey(a.privatePem),
      publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: eph.toString('base64url') }, format: 'jwk' }),
    });
    const key = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([eph, recipient]), 'tresor/v1/key-wrap/x25519', 32));
    const sealed = Buffer.from(wrapped.ciphertext, 'base64');
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(wrapped.nonce, 'base64'));
    d.setAAD(Buffer.from(`tresor/v1/key-wrap\nx25519\n${wrapped.kekId}`));
    d.setAuthTag(sealed.subarray(32));
    expect(Buffer.concat([d.update(sealed.subarray(0, 32)), d.final()]).equals(dek)).toBe(true);
  });

  it('detects a modified wrap and malformed fields', async () => {
    const a = pair();
    const opener = X25519PrivateKek.fromPem(a.privatePem);
    const wrapped = (await X25519PublicKek.fromPem(a.publicPem).wrap(generateDataKey())) as X25519Wrap;
    const sealed = Buffer.from(wrapped.ciphertext, 'base64');
    sealed[3]! ^= 1;
    await expect(opener.unwrap({ ...wrapped, ciphertext: sealed.toString('base64') })).rejects.toThrow(WrongKeyError);
    await expect(opener.unwrap({ ...wrapped, nonce: 'AAAA' })).rejects.toThrow(IntegrityError);
    // A low-order point (all zero) as ephemeral key is refused, not used.
    await expect(opener.unwrap({ ...wrapped, ephemeralPublicKey: Buffer.alloc(32).toString('base64') })).rejects.toThrow(IntegrityError);
  });

  it('refuses keys of another type', () => {
    const rsa = generateKeyPairSync('ed25519');
    expect(() => X25519PublicKek.fromPem(rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string)).toThrow(UsageError);
    expect(() => X25519PrivateKek.fromPem('not a key')).toThrow(UsageError);
  });
});
