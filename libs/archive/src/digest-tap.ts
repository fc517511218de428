import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

/** A pass-through that counts and SHA-256-hashes what flows through it. */
export class DigestTap extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;

  /** Bytes seen so far. */
  get bytes(): number {
    return this.count;
  }

  /** Hex SHA-256 of everything seen; call once, after the stream has finished. */
  digestHex(): string {
    return this.hash.digest('hex');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.count += chunk.length;
    done(null, chunk);
  }
}
