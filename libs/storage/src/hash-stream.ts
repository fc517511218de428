import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { HashThread } from './hash-thread.js';
import type { ObjectStore } from './object-store.js';

/** Bytes gathered before a hashing thread is started: a smaller stream is hashed where it is read. */
export const THREAD_AFTER_BYTES = 4 * 1024 * 1024;
/** Bytes gathered per copy to the thread, whatever the stream's chunk size. */
const BATCH_BYTES = 1024 * 1024;

/**
 * Hex SHA-256 and byte count of a stream, without holding it. A stream past its first few
 * megabytes is hashed on a thread of its own (HashThread), the caller's thread only copying the
 * bytes there (issue 9: a deep verify's main thread spent ~0.4 s hashing a 375 MiB archive).
 */
export async function hashStream(stream: Readable): Promise<{ sha256: string; size: number }> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let size = 0;
  let thread: HashThread | undefined;
  try {
    for await (const chunk of stream) {
      const bytes = chunk as Uint8Array;
      size += bytes.byteLength;
      pending.push(bytes);
      pendingBytes += bytes.byteLength;
      if (pendingBytes < (thread ? BATCH_BYTES : THREAD_AFTER_BYTES)) continue;
      await (thread ??= new HashThread()).update(...pending);
      pending = [];
      pendingBytes = 0;
    }
    if (thread) {
      if (pendingBytes > 0) await thread.update(...pending);
      return { sha256: await thread.digestHex(), size };
    }
    const hash = createHash('sha256');
    for (const bytes of pending) hash.update(bytes);
    return { sha256: hash.digest('hex'), size };
  } finally {
    await thread?.stop();
  }
}

/** Hex SHA-256 and size of a stored object: the store's own (ObjectStore.sha256) where it has one, else streamed. */
export async function hashObject(store: ObjectStore, key: string): Promise<{ sha256: string; size: number }> {
  return store.sha256 ? store.sha256(key) : hashStream(await store.get(key));
}
