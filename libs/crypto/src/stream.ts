import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { IntegrityError } from '@tresor/errors';
import { ByteQueue } from './byte-queue.js';
import {
  checkFrameSize,
  checkStreamKey,
  decryptFrame,
  sealFrameParts,
  FRAME_SIZE,
  TAG_SIZE,
  tryDecryptFrame,
} from './stream-frame.js';

/** Options of a decrypting stream. */
export interface DecryptStreamOptions {
  /** Plaintext frame size the stream was written with (default FRAME_SIZE). */
  readonly frameSize?: number;
}

/**
 * Encrypts a byte stream into STREAM frames. A full frame is only sealed once more input
 * arrives, because until then it might be the last one; memory stays at about one frame.
 */
export function createEncryptStream(key: Buffer, frameSize: number = FRAME_SIZE): Transform {
  checkStreamKey(key);
  checkFrameSize(frameSize);
  const pending = new ByteQueue();
  let index = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      pending.push(chunk);
      while (pending.length > frameSize) {
        const [body, tag] = sealFrameParts(key, index, pending.take(frameSize), false);
        this.push(body);
        this.push(tag);
        index++;
      }
      done();
    },
    flush(done: TransformCallback) {
      // Holds 1..frameSize bytes here, or 0 when the whole input was empty.
      const [body, tag] = sealFrameParts(key, index, pending.take(frameSize), true);
      if (body.length > 0) this.push(body);
      this.push(tag);
      done();
    },
  });
}

/**
 * Decrypts STREAM frames back into plaintext, failing with IntegrityError (naming the frame) on
 * any modified, reordered, dropped or appended frame and on a stream that ends without its last frame.
 */
export function createDecryptStream(key: Buffer, options: DecryptStreamOptions = {}): Transform {
  const frameSize = options.frameSize ?? FRAME_SIZE;
  checkStreamKey(key);
  checkFrameSize(frameSize);
  const sealedFrame = frameSize + TAG_SIZE;
  const pending = new ByteQueue();
  let index = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      try {
        pending.push(chunk);
        // More bytes after a full frame prove it is not the last one.
        while (pending.length > sealedFrame) {
          this.push(openMiddleFrame(key, index, pending.take(sealedFrame)));
          index++;
        }
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        this.push(openFinalFrame(key, index, pending.take(sealedFrame)));
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
}

function openMiddleFrame(key: Buffer, index: number, frame: Buffer): Buffer {
  const plaintext = tryDecryptFrame(key, index, frame, false);
  if (plaintext !== undefined) return plaintext;
  if (tryDecryptFrame(key, index, frame, true) !== undefined) {
    throw new IntegrityError(`unexpected data after the final frame ${index}`);
  }
  throw new IntegrityError(
    `frame ${index} failed authentication (corrupted, reordered, dropped or wrong key)`,
  );
}

function openFinalFrame(key: Buffer, index: number, frame: Buffer): Buffer {
  if (frame.length === 0) throw new IntegrityError('encrypted stream is empty: it has no final frame');
  if (
    tryDecryptFrame(key, index, frame, true) === undefined &&
    tryDecryptFrame(key, index, frame, false) !== undefined
  ) {
    throw new IntegrityError(
      `encrypted stream ends after frame ${index} without its final frame (truncated)`,
    );
  }
  return decryptFrame(key, index, frame, true);
}
