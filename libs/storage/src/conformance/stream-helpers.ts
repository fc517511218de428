import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/** Collects a stream into one buffer (for small objects in tests only). */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export { hashObject, hashStream } from '../hash-stream.js';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A stream of `size` random bytes made on demand, whose hash is known once it has been read. */
export function generatedStream(
  size: number,
  chunkSize = 1024 * 1024,
): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let remaining = size;
  const stream = new Readable({
    read() {
      if (remaining === 0) {
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(chunkSize, remaining));
      remaining -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

/** A stream that yields `before` bytes and then fails, like a source dying mid-upload. */
export function failingStream(before: number): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(randomBytes(before));
        return;
      }
      this.destroy(new Error('body stream failed midway (simulated)'));
    },
  });
}
