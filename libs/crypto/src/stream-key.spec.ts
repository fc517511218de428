import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UsageError } from '@tresor/errors';
import { deriveStreamKey } from './stream-key.js';

describe('deriveStreamKey', () => {
  const dek = randomBytes(32);
  const salt = randomBytes(32);

  it('is HKDF-SHA256 of the data key, salt and info', () => {
    const expected = Buffer.from(hkdfSync('sha256', dek, salt, Buffer.from('tresor/v1/archive:x'), 32));
    expect(deriveStreamKey(dek, salt, 'tresor/v1/archive:x').equals(expected)).toBe(true);
  });

  it('separates keys by info', () => {
    expect(deriveStreamKey(dek, salt, 'a').equals(deriveStreamKey(dek, salt, 'b'))).toBe(false);
  });

  it('refuses a data key of the wrong size', () => {
    expect(() => deriveStreamKey(randomBytes(31), salt, 'a')).toThrow(UsageError);
  });
});
