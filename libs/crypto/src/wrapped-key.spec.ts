import { describe, expect, it } from 'vitest';
import { wrappedKeySchema } from './wrapped-key.js';

describe('wrappedKeySchema', () => {
  const rsa = { type: 'rsa-oaep-sha256', kekId: 'rsa:00', ciphertext: 'AAAA' };

  it('accepts both wrap types', () => {
    expect(wrappedKeySchema.safeParse(rsa).success).toBe(true);
    const pass = {
      type: 'passphrase',
      kekId: 'passphrase:00',
      kdf: { alg: 'scrypt', N: 1, r: 8, p: 1, salt: 'AAAA' },
      nonce: 'AAAA',
      ciphertext: 'AAAA',
    };
    expect(wrappedKeySchema.safeParse(pass).success).toBe(true);
  });

  it('rejects unknown types, extra fields and bad base64', () => {
    expect(wrappedKeySchema.safeParse({ ...rsa, type: 'x25519' }).success).toBe(false);
    expect(wrappedKeySchema.safeParse({ ...rsa, extra: 1 }).success).toBe(false);
    expect(wrappedKeySchema.safeParse({ ...rsa, ciphertext: 'not base64!' }).success).toBe(false);
  });
});
