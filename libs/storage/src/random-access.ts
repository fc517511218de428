import { IntegrityError, NotFoundError, UsageError } from '@tresor/errors';
import type { ObjectStore } from './object-store.js';

/** Positional reads of one stored object, as the archive reader consumes them. */
export interface RandomAccessObject {
  readonly size: number;
  /** Exactly `length` bytes at `offset`; IntegrityError if the object is shorter than that. */
  read(offset: number, length: number): Promise<Buffer>;
}

/** Opens `key` for positional reads, each one a ranged `get` of the store. */
export async function randomAccess(store: ObjectStore, key: string): Promise<RandomAccessObject> {
  const info = await store.head(key);
  if (info === undefined) throw new NotFoundError(`object ${key} not found in ${store.location}`);
  const { size } = info;
  return {
    size,
    async read(offset: number, length: number): Promise<Buffer> {
      if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
        throw new UsageError(
          `read of ${length} bytes at ${offset} in object ${key}: not non-negative integers`,
        );
      }
      // A reader asking past the end trusts offsets the object does not back: it is truncated or lying.
      if (offset + length > size) {
        throw new IntegrityError(
          `read of ${length} bytes at ${offset} is past the end of object ${key} (${size} bytes) in ${store.location}`,
        );
      }
      if (length === 0) return Buffer.alloc(0);
      const bytes = store.readRange ? await store.readRange(key, offset, length) : await ranged(store, key, offset, length);
      if (bytes.length !== length) {
        throw new IntegrityError(
          `object ${key} in ${store.location} returned ${bytes.length} bytes at ${offset}, expected ${length}; it changed or is truncated`,
        );
      }
      return bytes;
    },
  };
}

/** The bytes of a ranged `get`, in one buffer (the stream's own when it came in one chunk). */
async function ranged(store: ObjectStore, key: string, offset: number, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of await store.get(key, { offset, length })) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    chunks.push(bytes);
    received += bytes.length;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
}
