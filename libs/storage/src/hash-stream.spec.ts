import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { hashStream } from './hash-stream.js';

/** `bytes` as a stream of chunks of `chunk` bytes. */
const chunked = (bytes: Buffer, chunk: number): Readable =>
  Readable.from(Array.from({ length: Math.ceil(bytes.length / chunk) }, (_, i) => bytes.subarray(i * chunk, (i + 1) * chunk)));

describe('hashStream', () => {
  // Below 4 MiB the stream is hashed where it is read; from 4 MiB on, on a thread.
  it.each([
    ['empty', 0, 1],
    ['1 MiB in 64 KiB chunks', 1024 * 1024, 64 * 1024],
    ['4 MiB exactly, one chunk', 4 * 1024 * 1024, 4 * 1024 * 1024],
    ['9 MiB + 3 bytes in 64 KiB chunks', 9 * 1024 * 1024 + 3, 64 * 1024],
    ['9 MiB + 3 bytes in 3 MiB chunks', 9 * 1024 * 1024 + 3, 3 * 1024 * 1024],
  ])('gives the SHA-256 and size of %s', async (_, size, chunk) => {
    const bytes = randomBytes(size);
    expect(await hashStream(chunked(bytes, chunk))).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex'), size });
  });

  it('rejects with the stream’s error past the point a thread took over, and ends', async () => {
    const failing = Readable.from(
      (async function* () {
        for (let i = 0; i < 6; i++) yield randomBytes(1024 * 1024);
        throw new Error('disk went away');
      })(),
    );
    await expect(hashStream(failing)).rejects.toThrow('disk went away');
  });
});
