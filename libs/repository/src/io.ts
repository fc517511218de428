import type { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '@tresor/storage';

/** Reads a whole (small) object into memory: manifests and repository.json only. */
export async function readObject(store: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Streams an object through SHA-256 and returns the hex digest and size. */
export async function hashObject(store: ObjectStore, key: string): Promise<{ sha256: string; size: number }> {
  return hashStream(await store.get(key));
}

/** Hex SHA-256 and byte count of a stream. */
export async function hashStream(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(stream, async function (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      hash.update(chunk);
      size += chunk.length;
    }
  });
  return { sha256: hash.digest('hex'), size };
}
