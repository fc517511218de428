import { createCipheriv, createDecipheriv } from 'node:crypto';
import { IntegrityError, UsageError } from '@tresor/errors';

/** Plaintext bytes per frame unless a caller chooses otherwise (as in age). */
export const FRAME_SIZE = 64 * 1024;
/** Largest frame size accepted, so one frame always fits comfortably in memory. */
export const MAX_FRAME_SIZE = 64 * 1024 * 1024;
/** AES-256-GCM authentication tag appended to every frame. */
export const TAG_SIZE = 16;
/** AES-256-GCM nonce: 11-byte big-endian counter, then the last-frame flag. */
export const NONCE_SIZE = 12;
/** AES-256 key length. */
export const STREAM_KEY_SIZE = 32;

const CIPHER = 'aes-256-gcm';
// Last-frame flag, the final byte of the nonce.
const LAST_FRAME = 0x01;
const NOT_LAST_FRAME = 0x00;
const COUNTER_OFFSET = NONCE_SIZE - 1 - 8;

/** The nonce of frame `index`: the counter, big-endian, then 0x01 on the final frame. */
export function frameNonce(index: number, isLast: boolean): Buffer {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new UsageError(`frame index ${index} is not a non-negative integer`);
  }
  const nonce = Buffer.alloc(NONCE_SIZE);
  // The counter is 11 bytes; indices stay below 2^53, so its top 3 bytes are always zero.
  nonce.writeBigUInt64BE(BigInt(index), COUNTER_OFFSET);
  nonce[NONCE_SIZE - 1] = isLast ? LAST_FRAME : NOT_LAST_FRAME;
  return nonce;
}

/** Seals one frame: ciphertext || 16-byte tag. */
export function encryptFrame(key: Buffer, index: number, plaintext: Buffer, isLast: boolean): Buffer {
  return Buffer.concat(sealFrameParts(key, index, plaintext, isLast));
}

/**
 * Seals one frame as its two parts, the ciphertext and the 16-byte tag, for a stream that writes
 * them one after the other (no copy into one buffer: a 375 MiB archive is 6,000 frames).
 */
export function sealFrameParts(key: Buffer, index: number, plaintext: Buffer, isLast: boolean): [Buffer, Buffer] {
  checkStreamKey(key);
  const cipher = createCipheriv(CIPHER, key, frameNonce(index, isLast));
  const body = cipher.update(plaintext);
  // GCM holds nothing back: final() returns no bytes, and makes the tag.
  cipher.final();
  return [body, cipher.getAuthTag()];
}

/** Opens frame `index` on its own (random access); IntegrityError names the frame on any failure. */
export function decryptFrame(key: Buffer, index: number, frame: Buffer, isLast: boolean): Buffer {
  checkStreamKey(key);
  if (frame.length < TAG_SIZE) {
    throw new IntegrityError(
      `frame ${index} is ${frame.length} bytes, shorter than its ${TAG_SIZE}-byte tag (truncated)`,
    );
  }
  const plaintext = tryDecryptFrame(key, index, frame, isLast);
  if (plaintext === undefined) {
    throw new IntegrityError(
      `frame ${index} failed authentication (corrupted, reordered, truncated or wrong key)`,
    );
  }
  if (isLast && index > 0 && plaintext.length === 0) {
    throw new IntegrityError(
      `frame ${index} is an empty final frame, allowed only when the whole stream is empty`,
    );
  }
  return plaintext;
}

/** Like decryptFrame but returns undefined when the tag does not verify (lets callers diagnose why). */
export function tryDecryptFrame(
  key: Buffer,
  index: number,
  frame: Buffer,
  isLast: boolean,
): Buffer | undefined {
  if (frame.length < TAG_SIZE) return undefined;
  const decipher = createDecipheriv(CIPHER, key, frameNonce(index, isLast));
  decipher.setAuthTag(frame.subarray(frame.length - TAG_SIZE));
  const body = decipher.update(frame.subarray(0, frame.length - TAG_SIZE));
  try {
    return Buffer.concat([body, decipher.final()]);
  } catch {
    return undefined;
  }
}

/** UsageError unless `frameSize` is a whole number of bytes in 1..MAX_FRAME_SIZE. */
export function checkFrameSize(frameSize: number): void {
  if (!Number.isSafeInteger(frameSize) || frameSize < 1 || frameSize > MAX_FRAME_SIZE) {
    throw new UsageError(`frame size ${frameSize} is out of range (1-${MAX_FRAME_SIZE} bytes)`);
  }
}

/** UsageError unless `key` is a 32-byte AES-256 key. */
export function checkStreamKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== STREAM_KEY_SIZE) {
    throw new UsageError(`stream key must be ${STREAM_KEY_SIZE} bytes`);
  }
}
