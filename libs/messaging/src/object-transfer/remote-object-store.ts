import { Readable } from 'node:stream';
import { COMMANDS, HEADERS, TRANSFER_CHUNK_BYTES } from '@tresor/contracts';
import type { StorageLocation } from '@tresor/contracts';
import type { ByteRange, ObjectInfo, ObjectStore, PutOptions, PutResult, StoreCapabilities } from '@tresor/storage';
import { NoReplyError } from '../bus.js';
import type { Bus } from '../bus.js';

export interface RemoteStoreOptions {
  /** How long a commit may take before the put fails (default 120 s). */
  readonly commitTimeoutMs?: number;
  /** Tries, and the pause between them, to delete an object whose commit reply was lost (10, 3 s). */
  readonly cleanupAttempts?: number;
  readonly cleanupDelayMs?: number;
}

/**
 * An ObjectStore whose objects live behind the storage-gateway: archive bytes travel as 256 KiB
 * NATS request/reply chunks (ADR 12), each acknowledged before the next is sent (flow control).
 */
export class RemoteObjectStore implements ObjectStore {
  private constructor(
    private readonly bus: Bus,
    readonly location: string,
    readonly capabilities: StoreCapabilities,
    private readonly traceparent?: string,
    private readonly options: RemoteStoreOptions = {},
  ) {}

  static async connect(bus: Bus, traceparent?: string, options: RemoteStoreOptions = {}): Promise<RemoteObjectStore> {
    const { locations } = await bus.request(COMMANDS.storageLocations, { v: 1 }, { traceparent });
    const primary: StorageLocation | undefined = locations[0];
    if (!primary) throw new Error('the storage-gateway serves no storage location');
    return new RemoteObjectStore(bus, `storage-gateway:${primary.location}`, primary.capabilities, traceparent, options);
  }

  /** The same store, with requests carrying another trace context. */
  withTrace(traceparent: string): RemoteObjectStore {
    return new RemoteObjectStore(this.bus, this.location, this.capabilities, traceparent, this.options);
  }

  async put(key: string, body: Readable | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const { uploadId, instance } = await this.bus.request(
      COMMANDS.storagePutBegin,
      { v: 1, key, ...(options.expectedSha256 ? { expectedSha256: options.expectedSha256 } : {}) },
      { traceparent: this.traceparent },
    );
    // The rest of the upload goes to the replica that began it (the others do not know the upload).
    const t = { traceparent: this.traceparent, ...(instance ? { instance } : {}) };
    let seq = 0;
    let committing = false;
    try {
      for await (const chunk of rechunk(body)) {
        await this.bus.request(COMMANDS.storagePutChunk, chunk, {
          ...t,
          headers: { [HEADERS.uploadId]: uploadId, [HEADERS.sequence]: String(seq) },
        });
        seq++;
      }
      committing = true;
      const done = await this.bus.request(COMMANDS.storagePutCommit, { v: 1, uploadId, chunks: seq }, { ...t, timeoutMs: this.options.commitTimeoutMs ?? 120_000 });
      return { size: done.size, sha256: done.sha256 };
    } catch (err) {
      await this.bus.request(COMMANDS.storagePutAbort, { v: 1, uploadId }, t).catch(() => undefined);
      if (body instanceof Readable) body.destroy();
      // The commit may have stored the object with only its reply lost (NATS restarted): a failed
      // put must leave nothing, or the object stays an orphan no catalog entry points to.
      if (committing && err instanceof NoReplyError) await this.removeUncertain(key);
      throw err;
    }
  }

  /** Deletes `key` after a commit whose outcome is unknown, retrying while the bus recovers (best effort). */
  private async removeUncertain(key: string): Promise<void> {
    const attempts = this.options.cleanupAttempts ?? 10;
    for (let attempt = 0; attempt < attempts; attempt++) {
      try {
        await this.bus.request(COMMANDS.storageDelete, { v: 1, key }, { traceparent: this.traceparent });
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, this.options.cleanupDelayMs ?? 3_000));
      }
    }
    this.bus.logger.warn({ key }, 'an object whose commit reply was lost may remain as an orphan (tresor fsck finds it)');
  }

  async get(key: string, range: ByteRange = { offset: 0 }): Promise<Readable> {
    const end = range.length === undefined ? Infinity : range.offset + range.length;
    const fetchAt = async (offset: number): Promise<{ bytes: Uint8Array; eof: boolean }> => {
      const length = Math.min(TRANSFER_CHUNK_BYTES, end - offset);
      if (length <= 0) return { bytes: new Uint8Array(0), eof: true };
      const reply = await this.bus.request(COMMANDS.storageGet, { v: 1, key, offset, length }, { traceparent: this.traceparent });
      const eof = reply.headers?.get(HEADERS.eof) === 'true' || offset + reply.bytes.byteLength >= end;
      return { bytes: reply.bytes, eof };
    };
    // The first chunk is fetched now, so a missing object or bad range fails here, as the port says.
    const first = await fetchAt(range.offset);
    async function* chunks(): AsyncGenerator<Buffer> {
      let current = first;
      let offset = range.offset;
      for (;;) {
        if (current.bytes.byteLength > 0) yield Buffer.from(current.bytes);
        offset += current.bytes.byteLength;
        if (current.eof) return;
        current = await fetchAt(offset);
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const { object } = await this.bus.request(COMMANDS.storageHead, { v: 1, key }, { traceparent: this.traceparent });
    if (!object) return undefined;
    return { key: object.key, size: object.size, ...(object.modified ? { modified: new Date(object.modified) } : {}) };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let after: string | undefined;
    for (;;) {
      const page = await this.bus.request(
        COMMANDS.storageList,
        { v: 1, prefix, limit: 1000, ...(after ? { after } : {}) },
        { traceparent: this.traceparent },
      );
      for (const o of page.objects) yield { key: o.key, size: o.size, ...(o.modified ? { modified: new Date(o.modified) } : {}) };
      if (!page.next) return;
      after = page.next;
    }
  }

  async delete(key: string): Promise<void> {
    await this.bus.request(COMMANDS.storageDelete, { v: 1, key }, { traceparent: this.traceparent });
  }
}

async function* rechunk(body: Readable | Uint8Array): AsyncGenerator<Uint8Array> {
  if (!(body instanceof Readable)) {
    for (let i = 0; i < body.byteLength; i += TRANSFER_CHUNK_BYTES) yield body.subarray(i, i + TRANSFER_CHUNK_BYTES);
    return;
  }
  let pending: Buffer[] = [];
  let size = 0;
  for await (const piece of body) {
    const buf = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array);
    pending.push(buf);
    size += buf.byteLength;
    while (size >= TRANSFER_CHUNK_BYTES) {
      const all = Buffer.concat(pending);
      yield all.subarray(0, TRANSFER_CHUNK_BYTES);
      const rest = all.subarray(TRANSFER_CHUNK_BYTES);
      pending = rest.byteLength > 0 ? [rest] : [];
      size = rest.byteLength;
    }
  }
  if (size > 0) yield Buffer.concat(pending);
}
