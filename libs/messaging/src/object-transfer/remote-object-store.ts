import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { COMMANDS, HEADERS, TRANSFER_CHUNK_BYTES } from '@tresor/contracts';
import type { StorageLocation } from '@tresor/contracts';
import { IntegrityError, NotFoundError } from '@tresor/errors';
import type { ByteRange, ObjectInfo, ObjectStore, PutOptions, PutResult, StoreCapabilities } from '@tresor/storage';
import { NoReplyError } from '../bus.js';
import type { Bus } from '../bus.js';

export interface RemoteStoreOptions {
  /** How long a commit may take before the put fails (default 120 s). */
  readonly commitTimeoutMs?: number;
  /** How long one chunk may take to be acknowledged before the put fails (default 30 s). */
  readonly chunkTimeoutMs?: number;
  /** How long one chunk or commit request waits for its reply before it is sent again (default 10 s). */
  readonly askMs?: number;
  /** The pause before sending a request again after it got no reply (default 1 s). */
  readonly askPauseMs?: number;
  /** No responder on the upload's replica for this long: it is gone, and is not asked again (default 15 s). */
  readonly replicaGoneMs?: number;
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
    let sent = 0;
    const hash = createHash('sha256');
    let committing = false;
    try {
      for await (const chunk of rechunk(body)) {
        const headers = { [HEADERS.uploadId]: uploadId, [HEADERS.sequence]: String(seq) };
        await this.askUntilAnswered(`chunk ${seq} of ${key}`, this.options.chunkTimeoutMs ?? 30_000, (timeoutMs) =>
          this.bus.request(COMMANDS.storagePutChunk, chunk, { ...t, headers, timeoutMs }),
        );
        hash.update(chunk);
        sent += chunk.byteLength;
        seq++;
      }
      committing = true;
      const done = await this.askUntilAnswered(`the commit of ${key}`, this.options.commitTimeoutMs ?? 120_000, (timeoutMs) =>
        this.bus.request(COMMANDS.storagePutCommit, { v: 1, uploadId, chunks: seq }, { ...t, timeoutMs }),
      );
      const expected = { size: sent, sha256: hash.digest('hex') };
      if (done.size !== expected.size || done.sha256 !== expected.sha256) {
        throw new IntegrityError(`${key}: the storage-gateway stored ${done.size} bytes (sha256 ${done.sha256}), but ${expected.size} bytes (sha256 ${expected.sha256}) were sent`);
      }
      return { size: done.size, sha256: done.sha256 };
    } catch (err) {
      await this.bus.request(COMMANDS.storagePutAbort, { v: 1, uploadId }, t).catch(() => undefined);
      if (body instanceof Readable) body.destroy();
      // The commit may have stored the object with only its reply lost (NATS restarted) or stored
      // other bytes: a failed put must leave nothing, or the object stays an orphan no catalog entry points to.
      if (committing && (err instanceof NoReplyError || err instanceof IntegrityError)) await this.removeUncertain(key);
      throw err;
    }
  }

  /**
   * Sends a chunk or commit of an upload to its replica, and again while replies are lost and
   * `totalMs` lasts: the storage-gateway takes a chunk it already has once and answers a repeated
   * commit with the same outcome, so a reply lost in a bus restart costs a short wait, not the
   * upload. A replica with no subscription for `replicaGoneMs` was killed (a bus restart takes
   * seconds) and is not asked again. NoReplyError when the outcome stays unknown.
   */
  private async askUntilAnswered<T>(what: string, totalMs: number, ask: (timeoutMs: number) => Promise<T>): Promise<T> {
    const deadline = Date.now() + totalMs;
    const pauseMs = this.options.askPauseMs ?? 1_000;
    let goneSince: number | undefined;
    for (let again = false; ; again = true) {
      try {
        return await ask(Math.max(1, Math.min(this.options.askMs ?? 10_000, deadline - Date.now())));
      } catch (err) {
        // Asked again, the upload is unknown: the replica that had it restarted, and what it did with it is unknown.
        if (again && err instanceof NotFoundError) throw new NoReplyError(`${what}: the storage-gateway no longer knows the upload (restarted?): ${err.message}`, { cause: err });
        if (!(err instanceof NoReplyError) || Date.now() + pauseMs >= deadline) throw err;
        goneSince = noResponders(err) ? (goneSince ?? Date.now()) : undefined;
        if (goneSince !== undefined && Date.now() - goneSince >= (this.options.replicaGoneMs ?? 15_000)) throw err;
        this.bus.logger.warn({ err: err.message }, `no reply to ${what}; asking the storage-gateway again`);
        await sleep(pauseMs);
      }
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

/** The request found no subscriber on its subject (NATS "no responders"), rather than timing out. */
function noResponders(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) if (e.name === 'NoResponders') return true;
  return false;
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
