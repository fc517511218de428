import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { IntegrityError, UsageError } from '@tresor/errors';

/**
 * Passes bytes through while hashing them. When `expected` is given and the hash differs, the
 * stream fails instead of ending: an uploader reading it never sees the end of the body, so it
 * never commits (S3 completes no multipart upload, Azure commits no block list, a resumable GCS
 * upload is never finalized). This is what makes `expectedSha256` hold end to end.
 */
export class HashCheck extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  private digest: string | undefined;

  constructor(
    private readonly expected: string | undefined,
    private readonly what: string,
  ) {
    super();
  }

  /** Hex SHA-256 of everything that passed; only known once the stream has ended. */
  get sha256(): string {
    if (this.digest === undefined) throw new Error('HashCheck: the stream has not ended yet');
    return this.digest;
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    const bytes = toBuffer(chunk);
    if (bytes === undefined) {
      callback(new UsageError('object body yielded a chunk that is neither bytes nor a string'));
      return;
    }
    this.hash.update(bytes);
    this.bytes += bytes.length;
    callback(null, bytes);
  }

  override _flush(callback: TransformCallback): void {
    this.digest = this.hash.digest('hex');
    if (this.expected !== undefined && this.digest !== this.expected) {
      callback(
        new IntegrityError(
          `${this.what} hashes to ${this.digest}, expected ${this.expected}; nothing stored`,
        ),
      );
      return;
    }
    callback();
  }
}

/** A body (bytes or stream) piped through a HashCheck; the check's errors and the body's reach the reader. */
export function hashChecked(
  body: Readable | Uint8Array,
  expected: string | undefined,
  what: string,
): HashCheck {
  const check = new HashCheck(expected, what);
  // Bytes become a one-chunk stream; Readable.from(buffer) would iterate byte by byte.
  const source =
    body instanceof Uint8Array
      ? Readable.from([Buffer.from(body.buffer, body.byteOffset, body.length)])
      : body;
  source.once('error', (err) => check.destroy(err));
  // Uploaders see a failure through their reads (and `errored`); an uploader that already gave up
  // must not turn it into an uncaught 'error' event.
  check.on('error', () => undefined);
  source.pipe(check);
  return check;
}

function toBuffer(chunk: unknown): Buffer | undefined {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
  if (typeof chunk === 'string') return Buffer.from(chunk);
  return undefined;
}
