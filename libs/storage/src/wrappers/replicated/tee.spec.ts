import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { tee } from './tee.js';

/**
 * Reads a stream to its end, one chunk per turn of the event loop (a reader slower than the
 * source); also the most 'close' listeners the stream had at any chunk.
 */
async function readSlowly(stream: Readable): Promise<{ bytes: Buffer; mostCloseListeners: number }> {
  const chunks: Buffer[] = [];
  let mostCloseListeners = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    mostCloseListeners = Math.max(mostCloseListeners, stream.listenerCount('close'));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { bytes: Buffer.concat(chunks), mostCloseListeners };
}

describe('tee', () => {
  it('gives every branch every byte, and waiting for a branch leaves no listener behind', async () => {
    // 300 chunks of 64 KiB: each fills a branch past its 16 KiB buffer, so the source waits every time.
    const chunks = Array.from({ length: 300 }, () => randomBytes(64 * 1024));
    const branches = tee(Readable.from(chunks), 2, { afterMs: 60_000, minLive: 2, onCut: () => undefined });
    const read = await Promise.all(branches.map(readSlowly));
    const expected = Buffer.concat(chunks);
    expect(read.map(({ bytes }) => bytes.equals(expected))).toEqual([true, true]);
    // The tee's own, the reader's and the two of the wait in progress (the stall's and the
    // source's): not two more per wait so far (602 before waits removed theirs).
    for (const { mostCloseListeners } of read) expect(mostCloseListeners).toBeLessThanOrEqual(4);
  });
});
