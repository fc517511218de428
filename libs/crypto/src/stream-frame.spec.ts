import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IntegrityError, UsageError } from '@tresor/errors';
import { decryptFrame, encryptFrame, frameNonce } from './stream-frame.js';

describe('frameNonce', () => {
  it('is the 11-byte big-endian counter followed by the last-frame flag', () => {
    expect(frameNonce(0, false).toString('hex')).toBe('000000000000000000000000');
    expect(frameNonce(1, true).toString('hex')).toBe('000000000000000000000101');
    expect(frameNonce(0x0102030405, false).toString('hex')).toBe('000000000000010203040500');
  });

  it('rejects negative or fractional indices', () => {
    expect(() => frameNonce(-1, false)).toThrow(UsageError);
    expect(() => frameNonce(1.5, false)).toThrow(UsageError);
  });
});

describe('encryptFrame/decryptFrame', () => {
  const key = randomBytes(32);

  it('opens a frame at its own index and flag only', () => {
    const frame = encryptFrame(key, 7, Buffer.from('hello'), false);
    expect(decryptFrame(key, 7, frame, false).toString()).toBe('hello');
    expect(() => decryptFrame(key, 6, frame, false)).toThrow(/frame 6 failed authentication/);
    expect(() => decryptFrame(key, 7, frame, true)).toThrow(IntegrityError);
  });

  it('rejects a frame shorter than a tag', () => {
    expect(() => decryptFrame(key, 0, Buffer.alloc(3), true)).toThrow(/shorter than its 16-byte tag/);
  });

  it('rejects an empty final frame after the first', () => {
    const frame = encryptFrame(key, 2, Buffer.alloc(0), true);
    expect(() => decryptFrame(key, 2, frame, true)).toThrow(/empty final frame/);
    expect(decryptFrame(key, 0, encryptFrame(key, 0, Buffer.alloc(0), true), true).length).toBe(0);
  });

  it('rejects keys of the wrong size', () => {
    expect(() => encryptFrame(randomBytes(16), 0, Buffer.alloc(1), true)).toThrow(UsageError);
  });
});
