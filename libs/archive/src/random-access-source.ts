import { open } from 'node:fs/promises';
import { IntegrityError, IoError, UsageError } from '@tresor/errors';

/** Positional reads of one stored object (storage backends provide it over ranged gets). */
export interface RandomAccessSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset`. */
  read(offset: number, length: number): Promise<Buffer>;
}

/** A RandomAccessSource over a local file; close it when done. */
export interface FileSource extends RandomAccessSource {
  close(): Promise<void>;
}

/** A RandomAccessSource over bytes in memory (tests, small objects). */
export function bufferSource(bytes: Buffer): RandomAccessSource {
  return {
    size: bytes.length,
    async read(offset, length) {
      checkRange(offset, length, bytes.length, 'buffer');
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** Opens `path` for positional reads. */
export async function fileSource(path: string): Promise<FileSource> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new IoError(`cannot open archive file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const { size } = await handle.stat();
  return {
    size,
    async read(offset, length) {
      checkRange(offset, length, size, path);
      const out = Buffer.alloc(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(out, filled, length - filled, offset + filled);
        if (bytesRead === 0)
          throw new IntegrityError(`archive file ${path} is shorter than when it was opened`);
        filled += bytesRead;
      }
      return out;
    },
    close: () => handle.close(),
  };
}

function checkRange(offset: number, length: number, size: number, what: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new UsageError(`read of ${length} bytes at ${offset} from ${what}: not non-negative integers`);
  }
  if (offset + length > size) {
    throw new IntegrityError(
      `read of ${length} bytes at ${offset} is past the end of ${what} (${size} bytes)`,
    );
  }
}
