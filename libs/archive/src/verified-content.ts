import { createHash } from 'node:crypto';
import { pipeline, Transform, Writable } from 'node:stream';
import { pipeline as pipelinePromise } from 'node:stream/promises';
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
  checkFileEntry(entry);
  return pipeline(
    reader.openContent(entry.data!, entry.size),
    new ContentVerifier(entry, reader.backupId),
    () => undefined,
  );
}

/**
 * Checks a file entry's content (deep verify) without handing it to anyone: the same checks and
 * errors as readVerifiedContent, but small content is decompressed and hashed in one go, sparing
 * each key file the set-up of a stream pipeline, which costs more than the work itself.
 */
export async function verifyContent(reader: ArchiveReader, entry: Entry): Promise<void> {
  checkFileEntry(entry);
  const content = await reader.readSmallContent(entry.data!, entry.size);
  if (content === undefined) {
    await pipelinePromise(readVerifiedContent(reader, entry), new Writable({ write: (_c, _e, done) => done() }));
    return;
  }
  checkContentDigest(entry, reader.backupId, content.length, createHash('sha256').update(content).digest('hex'));
}

/**
 * The checks of verifyContent on the length and SHA-256 (hex) of an entry's decompressed content,
 * wherever they were computed (a verify thread); IntegrityError naming the entry if they differ.
 */
export function checkContentDigest(entry: Entry, backupId: string, length: number, sha256: string): void {
  if (length > entry.size) {
    throw contentProblem(entry, backupId, `is longer than its recorded ${entry.size} bytes`);
  }
  if (length !== entry.size) {
    throw contentProblem(entry, backupId, `has ${length} bytes, not its recorded ${entry.size}`);
  }
  if (sha256 !== entry.sha256) {
    throw contentProblem(entry, backupId, 'does not match its recorded SHA-256');
  }
}

function checkFileEntry(entry: Entry): void {
  if (entry.type !== 'file' || entry.data === undefined || entry.sha256 === undefined) {
    throw new UsageError(`entry ${quotePath(entry.path)} is not a file with stored content`);
  }
}

function contentProblem(entry: Entry, backupId: string, what: string): IntegrityError {
  return new IntegrityError(`entry ${quotePath(entry.path)} in archive ${backupId}: content ${what}`);
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
    return contentProblem(this.entry, this.backupId, what);
  }
}
