import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ObjectStore, PutOptions, PutResult } from '@tresor/storage';
import { ARCHIVE_PREFIX } from '@tresor/repository';

const SLICE_BYTES = 64 * 1024;

/**
 * Test-only (`TRESOR_TEST_UPLOAD_DELAY_MS`): slows archive uploads down by `delayMs` per 64 KiB,
 * so fault tests can kill an engine deterministically while its upload is in flight.
 */
export function throttledStore(store: ObjectStore, delayMs: number): ObjectStore {
  if (delayMs <= 0) return store;
  return {
    location: store.location,
    capabilities: store.capabilities,
    get: (key, range) => store.get(key, range),
    head: (key) => store.head(key),
    list: (prefix) => store.list(prefix),
    delete: (key) => store.delete(key),
    put(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<PutResult> {
      if (!key.startsWith(ARCHIVE_PREFIX)) return store.put(key, body, options);
      const source = body instanceof Readable ? body : Readable.from([Buffer.from(body)]);
      async function* slow(): AsyncGenerator<Buffer> {
        for await (const piece of source) {
          const buf = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array);
          for (let i = 0; i < buf.byteLength; i += SLICE_BYTES) {
            await sleep(delayMs);
            yield buf.subarray(i, i + SLICE_BYTES);
          }
        }
      }
      return store.put(key, Readable.from(slow(), { objectMode: false }), options);
    },
  };
}
