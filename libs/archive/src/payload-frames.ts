import { decryptFrame, TAG_SIZE } from '@tresor/crypto';
import type { StreamLayout } from '@tresor/crypto';
import { IntegrityError } from '@tresor/errors';
import type { RandomAccessSource } from './random-access-source.js';

/** Most ciphertext fetched by one source read: few round trips, bounded memory. */
export const READ_BATCH_BYTES = 1024 * 1024;

/** Decrypted frames kept for reuse (small entries share frames; verify reads several at once). */
const RECENT_FRAMES = 8;
/**
 * Ciphertext reads kept: one per sequential reader at work on the archive at once (deep verify
 * reads the entry table and the contents in step).
 */
const WINDOWS = 3;

/** One decrypted frame. */
export interface PlainFrame {
  readonly index: number;
  readonly plaintext: Buffer;
}

/** Random access to the decrypted payload of an archive: reads and opens only the frames asked for. */
export class PayloadFrames {
  private readonly sealedFrame: number;
  private readonly recent = new Map<number, PlainFrame>();
  /** Recent reads of ciphertext, least recently used first. */
  private readonly windows: SealedWindow[] = [];
  /** Frames already decrypted (so authenticated) once: 1 per frame. */
  private readonly opened: Uint8Array;

  constructor(
    private readonly source: RandomAccessSource,
    private readonly key: Buffer,
    private readonly frameSize: number,
    private readonly payloadStart: number,
    private readonly layout: StreamLayout,
    private readonly label: string,
  ) {
    this.sealedFrame = frameSize + TAG_SIZE;
    this.opened = new Uint8Array(layout.frameCount);
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

  /**
   * Plaintext bytes [start, end) when they lie in one frame opened recently, without a read or an
   * await (most key files share a frame with their neighbours); undefined otherwise (use readRange).
   * The range must be one readRange accepts.
   */
  recentRange(start: number, end: number): Buffer | undefined {
    const index = Math.floor(start / this.frameSize);
    if (end - 1 >= (index + 1) * this.frameSize || end <= start) return undefined;
    const frame = this.recent.get(index);
    const frameStart = index * this.frameSize;
    if (!frame || end - frameStart > frame.plaintext.length) return undefined;
    return frame.plaintext.subarray(start - frameStart, end - frameStart);
  }

  /** Frames `first`..`last` (inclusive), decrypted in order; IntegrityError names the first bad one. */
  async *frames(first: number, last: number): AsyncGenerator<PlainFrame> {
    for (let index = first; index <= last; index++) {
      // Small entries share frames, and deep verify checks several entries at once: a few
      // recently opened frames are kept so that each is read and opened about once.
      let frame = this.recent.get(index);
      if (!frame) {
        const sealed = await this.sealed(index, last);
        frame = this.recent.get(index);
        if (!frame) {
          frame = { index, plaintext: this.open(index, sealed) };
          this.recent.set(index, frame);
          if (this.recent.size > RECENT_FRAMES) this.recent.delete(this.recent.keys().next().value!);
        }
      }
      yield frame;
    }
  }

  /**
   * Decrypts every frame not decrypted before (deep verify, after the entries were read): with it,
   * every frame of the payload has been authenticated once. Resolves to the number of frames opened.
   */
  async openRemaining(): Promise<number> {
    let count = 0;
    for (let first = 0; first < this.frameCount; first++) {
      if (this.opened[first]) continue;
      let last = first;
      while (last + 1 < this.frameCount && !this.opened[last + 1]) last++;
      for await (const _frame of this.frames(first, last)) count++;
      first = last;
    }
    return count;
  }

  /** The ciphertext of frame `index`, from a window already read (or being read), or a new one. */
  private async sealed(index: number, last: number): Promise<Buffer> {
    let window = this.windows.find((w) => index >= w.first && index <= w.last);
    if (window) {
      // Most recently used last: the least recently used window is the one dropped.
      this.windows.splice(this.windows.indexOf(window), 1);
    } else {
      window = this.readWindow(index, last);
    }
    this.windows.push(window);
    if (this.windows.length > WINDOWS) this.windows.shift();
    const bytes = await window.bytes;
    const at = (index - window.first) * this.sealedFrame;
    return bytes.subarray(at, Math.min(at + this.sealedFrame, bytes.length));
  }

  /**
   * Starts reading the ciphertext of frames from `first` on: up to `last` when the access looks
   * random (a restore of one file reads only its frames), a whole batch when it continues where a
   * previous read ended (an in-order restore or verify then makes one read per batch).
   */
  private readWindow(first: number, last: number): SealedWindow {
    const perBatch = Math.max(1, Math.floor(READ_BATCH_BYTES / this.sealedFrame));
    const sequential = this.windows.some((w) => w.last + 1 === first);
    const end = Math.min(this.layout.frameCount - 1, first + perBatch - 1, sequential ? Infinity : last);
    const offset = this.payloadStart + first * this.sealedFrame;
    const length = this.frameEnd(end) - first * this.sealedFrame;
    const window: SealedWindow = { first, last: end, bytes: this.source.read(offset, length) };
    // A failed read is reported to whoever awaits it, and not kept for the next one.
    window.bytes.catch(() => {
      const at = this.windows.indexOf(window);
      if (at !== -1) this.windows.splice(at, 1);
    });
    return window;
  }

  private open(index: number, frame: Buffer): Buffer {
    try {
      const plaintext = decryptFrame(this.key, index, frame, index === this.layout.frameCount - 1);
      this.opened[index] = 1;
      return plaintext;
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

/** The ciphertext of frames `first`..`last`, read (or being read) in one go. */
interface SealedWindow {
  readonly first: number;
  readonly last: number;
  readonly bytes: Promise<Buffer>;
}
