import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { COMMANDS, HEADERS, TRANSFER_CHUNK_BYTES } from '@tresor/contracts';
import type { StorageLocation } from '@tresor/contracts';
import { NotFoundError, UsageError } from '@tresor/errors';
import type { ObjectStore, PutResult } from '@tresor/storage';
import type { Bus } from '../bus.js';

interface Upload {
  readonly key: string;
  readonly body: PassThrough;
  readonly putting: Promise<PutResult>;
  nextSeq: number;
  received: number;
  lastActivity: number;
  /** Set by the first commit request; a repeated one waits for the same put. */
  committing?: boolean;
  /** The last chunk taken, so that the same chunk sent again (its reply was lost) is taken once. */
  lastChunk?: { readonly seq: number; readonly bytes: Buffer; readonly received: number; readonly written: Promise<void> };
}

/** How long the outcome of a finished commit is kept for a writer that asks again (its reply was lost). */
const COMMIT_OUTCOME_KEEP_MS = 10 * 60_000;

export interface ObjectTransferOptions {
  /** An upload without a chunk for this long is aborted (its writer died); default 60 s. */
  readonly idleUploadMs?: number;
  readonly locationName?: string;
}

/**
 * Serves an ObjectStore on the storage commands (the storage-gateway's side of RemoteObjectStore).
 * Returns a function that aborts every open upload and stops the idle sweeper.
 */
export function serveObjectStore(bus: Bus, store: ObjectStore, options: ObjectTransferOptions = {}): () => void {
  const uploads = new Map<string, Upload>();
  // Outcomes of finished commits by upload id: the commit is idempotent, so a writer whose reply
  // was lost in a bus restart asks again and learns whether its object was stored (RemoteObjectStore).
  const committed = new Map<string, { outcome: Promise<PutResult>; at: number }>();
  const idleMs = options.idleUploadMs ?? 60_000;
  const location: StorageLocation = { name: options.locationName ?? 'primary', location: store.location, capabilities: { ...store.capabilities } };

  const abort = (id: string, why: string): void => {
    const upload = uploads.get(id);
    if (!upload) return;
    uploads.delete(id);
    // The store may not listen to the body yet (it checks the key first): without a listener the
    // error would crash the process. The store still sees the destroyed body when it reads it.
    upload.body.on('error', () => undefined);
    upload.body.destroy(new Error(why));
    upload.putting.catch(() => undefined);
  };
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [id, c] of committed) if (now - c.at > COMMIT_OUTCOME_KEEP_MS) committed.delete(id);
    for (const [id, u] of uploads) {
      // A commit in progress is the store writing, not a writer that died.
      if (!u.committing && now - u.lastActivity > idleMs) {
        bus.logger.warn({ key: u.key, uploadId: id }, 'aborting idle upload (its writer stopped sending)');
        abort(id, `upload of ${u.key} idle for ${idleMs} ms`);
      }
    }
  }, Math.min(idleMs, 5_000));
  sweeper.unref();

  const uploadOf = (id: string | undefined): Upload => {
    const upload = id ? uploads.get(id) : undefined;
    if (!upload) throw new NotFoundError(`upload ${id ?? '(none)'} is not open on this storage-gateway (aborted or finished)`);
    upload.lastActivity = Date.now();
    return upload;
  };

  /** Ends an upload once; a repeated commit of the same upload waits for, or is told, the same outcome. */
  const commitUpload = (id: string, chunks: number): Promise<PutResult> => {
    const upload = uploadOf(id);
    if (chunks !== upload.nextSeq) {
      if (!upload.committing) abort(id, 'chunk count mismatch');
      throw new UsageError(`upload of ${upload.key}: commit after ${chunks} chunks, but ${upload.nextSeq} arrived`);
    }
    if (!upload.committing) {
      upload.committing = true;
      upload.body.end();
      // Moved to `committed` in one step, so a repeated commit finds the upload in one map or the other.
      void upload.putting.then(() => undefined, () => undefined).finally(() => {
        uploads.delete(id);
        committed.set(id, { outcome: upload.putting, at: Date.now() });
      });
    }
    return upload.putting;
  };

  bus.serve(COMMANDS.storageLocations, async () => ({ v: 1 as const, locations: [location] }));
  bus.serve(COMMANDS.storageHead, async ({ key }) => {
    const info = await store.head(key);
    return { v: 1 as const, object: info ? { key: info.key, size: info.size, ...(info.modified ? { modified: info.modified.toISOString() } : {}) } : null };
  });
  bus.serve(COMMANDS.storageList, async ({ prefix, after, limit }) => {
    const objects: { key: string; size: number; modified?: string }[] = [];
    let next: string | null = null;
    for await (const o of store.list(prefix)) {
      if (after !== undefined && o.key <= after) continue;
      if (objects.length === limit) {
        next = objects[objects.length - 1]!.key;
        break;
      }
      objects.push({ key: o.key, size: o.size, ...(o.modified ? { modified: o.modified.toISOString() } : {}) });
    }
    return { v: 1 as const, objects, next };
  });
  bus.serve(COMMANDS.storageDelete, async ({ key }) => {
    await store.delete(key);
    return { v: 1 as const };
  });
  bus.serve(COMMANDS.storagePutBegin, async ({ key, expectedSha256 }, ctx) => {
    const id = randomUUID();
    const body = new PassThrough({ highWaterMark: 2 * TRANSFER_CHUNK_BYTES });
    const putting = store.put(key, body, expectedSha256 ? { expectedSha256 } : {});
    putting.catch(() => undefined);
    uploads.set(id, { key, body, putting, nextSeq: 0, received: 0, lastActivity: Date.now() });
    ctx.logger.debug({ key, uploadId: id }, 'upload begun');
    return { v: 1 as const, uploadId: id, chunkBytes: TRANSFER_CHUNK_BYTES, instance: bus.instanceToken };
  });
  bus.serve(COMMANDS.storagePutChunk, async (bytes, ctx) => {
    const upload = uploadOf(ctx.headers?.get(HEADERS.uploadId));
    const seq = Number(ctx.headers?.get(HEADERS.sequence));
    const last = upload.lastChunk;
    // The writer sends a chunk again when its reply was lost: the same bytes under the same number are written once.
    if (last && seq === last.seq && last.bytes.equals(bytes)) {
      await last.written;
      return { v: 1 as const, received: last.received };
    }
    if (seq !== upload.nextSeq) throw new UsageError(`upload of ${upload.key}: chunk ${seq} arrived, expected ${upload.nextSeq}`);
    upload.nextSeq++;
    upload.received += bytes.byteLength;
    const chunk = Buffer.from(bytes);
    const taken = { seq, bytes: chunk, received: upload.received, written: writeChunk(upload, chunk) };
    upload.lastChunk = taken;
    await taken.written;
    return { v: 1 as const, received: taken.received };
  }, { perInstance: true });
  bus.serve(COMMANDS.storagePutCommit, async ({ uploadId, chunks }) => {
    const outcome = committed.get(uploadId)?.outcome ?? commitUpload(uploadId, chunks);
    const result = await outcome;
    return { v: 1 as const, size: result.size, sha256: result.sha256 };
  }, { perInstance: true });
  bus.serve(COMMANDS.storagePutAbort, async ({ uploadId }) => {
    abort(uploadId, 'aborted by the writer');
    return { v: 1 as const };
  }, { perInstance: true });
  bus.serve(COMMANDS.storageGet, async ({ key, offset, length }) => {
    const stream = await store.get(key, { offset, length });
    const parts: Buffer[] = [];
    for await (const piece of stream) parts.push(piece as Buffer);
    const bytes = Buffer.concat(parts);
    return { bytes, headers: { [HEADERS.eof]: String(bytes.byteLength < length) } };
  });

  return () => {
    clearInterval(sweeper);
    for (const id of [...uploads.keys()]) abort(id, 'storage-gateway shutting down');
  };
}

/** Writes a chunk to the upload's body; resolves once the store takes more (flow control) or the put ended. */
async function writeChunk(upload: Upload, chunk: Buffer): Promise<void> {
  if (upload.body.write(chunk)) return;
  await Promise.race([
    new Promise((r) => upload.body.once('drain', r)),
    upload.putting.then(() => undefined),
  ]);
}
