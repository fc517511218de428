import { decryptFrame, TAG_SIZE } from '@tresor/crypto';
import type { StreamLayout } from '@tresor/crypto';
import { IntegrityError } from '@tresor/errors';
import type { RandomAccessSource } from './random-access-source.js';

/** Most ciphertext fetched by one source read: few round trips, bounded memory. */
export const READ_BATCH_BYTES = 1024 * 1024;

/** One decrypted frame. */
export interface PlainFrame {
  readonly index: number;
  readonly plaintext: Buffer;
}

/** Random access to the decrypted payload of an archive: reads and opens only the frames asked for. */
export class PayloadFrames {
  private readonly sealedFrame: number;
  private recent: PlainFrame | undefined;

  constructor(
    private readonly source: RandomAccessSource,
    private readonly key: Buffer,
    private readonly frameSize: number,
    private readonly payloadStart: number,
    private readonly layout: StreamLayout,
    private readonly label: string,
  ) {
    this.sealedFrame = frameSize + TAG_SIZE;
  }

  /** Plaintext length of the whole payload. */
  get length(): number {
    return this.layout.plaintextLength;
  }

  /** Number of frames. */
  get frameCount(): number {
    return this.layout.frameCount;
  }

  /** Plaintext bytes [start, end) of the payload, one frame at a time. */
  async *readRange(start: number, end: number): AsyncGenerator<Buffer> {
    if (!(
      Number.isSafeInteger(start) &&
      Number.isSafeInteger(end) &&
      start >= 0 &&
      start <= end &&
      end <= this.length
    )) {
      throw new IntegrityError(
        `${this.label}: range ${start}..${end} is outside the ${this.length}-byte payload`,
      );
    }
    if (start === end) return;
    const first = Math.floor(start / this.frameSize);
    const last = Math.floor((end - 1) / this.frameSize);
    for await (const { index, plaintext } of this.frames(first, last)) {
      const frameStart = index * this.frameSize;
      yield plaintext.subarray(Math.max(0, start - frameStart), Math.min(plaintext.length, end - frameStart));
    }
  }

  /** Frames `first`..`last` (inclusive), decrypted in order; IntegrityError names the first bad one. */
  async *frames(first: number, last: number): AsyncGenerator<PlainFrame> {
    // Small entries share frames: restoring them in order would read and open each frame once
    // per entry without this one-frame cache.
    if (this.recent?.index === first) {
      yield this.recent;
      first++;
    }
    const perBatch = Math.max(1, Math.floor(READ_BATCH_BYTES / this.sealedFrame));
    for (let batchStart = first; batchStart <= last; batchStart += perBatch) {
      const batchEnd = Math.min(last, batchStart + perBatch - 1);
      const offset = this.payloadStart + batchStart * this.sealedFrame;
      const length = this.frameEnd(batchEnd) - batchStart * this.sealedFrame;
      const sealed = await this.source.read(offset, length);
      for (let index = batchStart; index <= batchEnd; index++) {
        const at = (index - batchStart) * this.sealedFrame;
        const frame = sealed.subarray(at, Math.min(at + this.sealedFrame, sealed.length));
        this.recent = { index, plaintext: this.open(index, frame) };
        yield this.recent;
      }
    }
  }

  private open(index: number, frame: Buffer): Buffer {
    try {
      return decryptFrame(this.key, index, frame, index === this.layout.frameCount - 1);
    } catch (err) {
      if (err instanceof IntegrityError)
        throw new IntegrityError(`${this.label}: ${err.message}`, { cause: err });
      throw err;
    }
  }

  // Ciphertext offset just past frame `index`, relative to the payload start.
  private frameEnd(index: number): number {
    const isLast = index === this.layout.frameCount - 1;
    return (
      index * this.sealedFrame + (isLast ? this.layout.lastFramePlaintextLength + TAG_SIZE : this.sealedFrame)
    );
  }
}
