import { IntegrityError } from '@tresor/errors';
import { checkFrameSize, TAG_SIZE } from './stream-frame.js';

/** Shape of a STREAM ciphertext: how many frames, and what the final one holds. */
export interface StreamLayout {
  readonly frameCount: number;
  /** Plaintext bytes in the final frame (0 only when the whole plaintext is empty). */
  readonly lastFramePlaintextLength: number;
  readonly plaintextLength: number;
}

/** Frame count and final-frame size of a ciphertext of `ciphertextLength` bytes; IntegrityError if none fits. */
export function streamLayout(ciphertextLength: number, frameSize: number): StreamLayout {
  checkFrameSize(frameSize);
  const sealedFrame = frameSize + TAG_SIZE;
  if (!Number.isSafeInteger(ciphertextLength) || ciphertextLength < TAG_SIZE) {
    throw invalidLength(ciphertextLength, frameSize);
  }
  const frameCount = Math.ceil(ciphertextLength / sealedFrame);
  const lastSealed = ciphertextLength - (frameCount - 1) * sealedFrame;
  const lastFramePlaintextLength = lastSealed - TAG_SIZE;
  // A tail shorter than a tag, or an empty final frame after full ones, cannot come from an encryptor.
  if (lastFramePlaintextLength < 0 || (lastFramePlaintextLength === 0 && frameCount > 1)) {
    throw invalidLength(ciphertextLength, frameSize);
  }
  return {
    frameCount,
    lastFramePlaintextLength,
    plaintextLength: (frameCount - 1) * frameSize + lastFramePlaintextLength,
  };
}

/** Ciphertext length of a `plaintextLength`-byte plaintext: one tag per frame, at least one frame. */
export function encryptedLength(plaintextLength: number, frameSize: number): number {
  checkFrameSize(frameSize);
  const frames = Math.max(1, Math.ceil(plaintextLength / frameSize));
  return plaintextLength + frames * TAG_SIZE;
}

function invalidLength(ciphertextLength: number, frameSize: number): IntegrityError {
  return new IntegrityError(
    `ciphertext of ${ciphertextLength} bytes cannot be a STREAM with ${frameSize}-byte frames (truncated or extended)`,
  );
}
