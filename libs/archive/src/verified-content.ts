import { createHash } from 'node:crypto';
import { pipeline, Transform } from 'node:stream';
import type { Readable, TransformCallback } from 'node:stream';
import { IntegrityError, UsageError } from '@tresor/errors';
import type { Entry } from './entry.js';
import { quotePath } from './paths.js';
import type { ArchiveReader } from './reader.js';

/**
 * The content of a file entry, failing with IntegrityError (naming the entry) if it is longer than
 * the recorded size (as soon as it is), shorter, or hashes differently. The last chunk is held back
 * until the hash is checked, so a consumer never receives the whole of a bad file without an error.
 */
export function readVerifiedContent(reader: ArchiveReader, entry: Entry): Readable {
  if (entry.type !== 'file' || entry.data === undefined || entry.sha256 === undefined) {
    throw new UsageError(`entry ${quotePath(entry.path)} is not a file with stored content`);
  }
  return pipeline(
    reader.openContent(entry.data, entry.size),
    new ContentVerifier(entry, reader.backupId),
    () => undefined,
  );
}

class ContentVerifier extends Transform {
  private readonly hash = createHash('sha256');
  private seen = 0;
  private held: Buffer | undefined;

  constructor(
    private readonly entry: Entry,
    private readonly backupId: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.entry.size) {
      done(this.problem(`is longer than its recorded ${this.entry.size} bytes`));
      return;
    }
    this.hash.update(chunk);
    const previous = this.held;
    this.held = chunk;
    done(null, previous);
  }

  override _flush(done: TransformCallback): void {
    if (this.seen !== this.entry.size) {
      done(this.problem(`has ${this.seen} bytes, not its recorded ${this.entry.size}`));
      return;
    }
    if (this.hash.digest('hex') !== this.entry.sha256) {
      done(this.problem('does not match its recorded SHA-256'));
      return;
    }
    done(null, this.held);
  }

  private problem(what: string): IntegrityError {
    return new IntegrityError(
      `entry ${quotePath(this.entry.path)} in archive ${this.backupId}: content ${what}`,
    );
  }
}
