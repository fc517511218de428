import { describe, expect, it } from 'vitest';
import { IntegrityError, UsageError } from '@tresor/errors';
import { encryptedLength, streamLayout } from './stream-layout.js';

describe('streamLayout', () => {
  it('describes an empty stream as one empty frame', () => {
    expect(streamLayout(16, 64)).toEqual({ frameCount: 1, lastFramePlaintextLength: 0, plaintextLength: 0 });
  });

  it('allows a full-size final frame', () => {
    expect(streamLayout(2 * 80, 64)).toEqual({
      frameCount: 2,
      lastFramePlaintextLength: 64,
      plaintextLength: 128,
    });
  });

  it('counts a partial final frame', () => {
    expect(streamLayout(80 + 16 + 5, 64)).toEqual({
      frameCount: 2,
      lastFramePlaintextLength: 5,
      plaintextLength: 69,
    });
  });

  it.each([0, 15, 80 + 15, 80 + 16])('rejects impossible length %i', (length) => {
    expect(() => streamLayout(length, 64)).toThrow(IntegrityError);
  });

  it('rejects a bad frame size', () => {
    expect(() => streamLayout(100, 0)).toThrow(UsageError);
  });

  it.each([0, 1, 63, 64, 65, 640])('agrees with encryptedLength for %i plaintext bytes', (size) => {
    expect(streamLayout(encryptedLength(size, 64), 64).plaintextLength).toBe(size);
  });
});
