import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UsageError } from '@tresor/errors';
import { generateSigningKeyPair, keyFingerprint, sign, verifySignature } from './signing.js';

describe('Ed25519 signing', () => {
  const pair = generateSigningKeyPair();

  it('verifies its own signatures', () => {
    const signature = sign(pair.privateKeyPem, 'manifest bytes');
    expect(Buffer.from(signature, 'base64').length).toBe(64);
    expect(verifySignature(pair.publicKeyPem, 'manifest bytes', signature)).toBe(true);
    expect(verifySignature(pair.publicKeyPem, Buffer.from('manifest bytes'), signature)).toBe(true);
  });

  it('rejects tampered data, a tampered signature and another key', () => {
    const signature = sign(pair.privateKeyPem, 'manifest bytes');
    expect(verifySignature(pair.publicKeyPem, 'manifest bytez', signature)).toBe(false);
    const flipped = Buffer.from(signature, 'base64');
    flipped[10]! ^= 1;
    expect(verifySignature(pair.publicKeyPem, 'manifest bytes', flipped.toString('base64'))).toBe(false);
    expect(verifySignature(pair.publicKeyPem, 'manifest bytes', 'AAAA')).toBe(false);
    expect(verifySignature(generateSigningKeyPair().publicKeyPem, 'manifest bytes', signature)).toBe(false);
  });

  it('fingerprints a public key stably', () => {
    expect(keyFingerprint(pair.publicKeyPem)).toMatch(/^ed25519:[0-9a-f]{32}$/);
    expect(keyFingerprint(pair.publicKeyPem)).toBe(keyFingerprint(pair.publicKeyPem));
    expect(keyFingerprint(generateSigningKeyPair().publicKeyPem)).not.toBe(keyFingerprint(pair.publicKeyPem));
  });

  it('refuses keys that are not Ed25519', () => {
    const rsa = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    expect(() => sign(rsa.privateKey, 'x')).toThrow(UsageError);
    expect(() => keyFingerprint('garbage')).toThrow(UsageError);
  });
});
