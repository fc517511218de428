import { Worker } from 'node:worker_threads';
import { IoError } from '@tresor/errors';

/**
 * The thread's code (CommonJS, evaluated): hashes the first `length` bytes of each buffer it gets
 * and sends the buffer back, and answers `null` with the digest.
 */
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const hash = require('node:crypto').createHash('sha256');
parentPort.on('message', (message) => {
  if (message === null) return parentPort.postMessage(hash.digest('hex'));
  hash.update(new Uint8Array(message.buffer, 0, message.length));
  parentPort.postMessage(message.buffer, [message.buffer]);
});
`;

/** Bytes given to the thread and not yet hashed, at most: beyond, update waits for it. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
/** The least a buffer sent to the thread holds: the local store's writes are ~1 MiB. */
const BUFFER_BYTES = 2 * 1024 * 1024;

/**
 * SHA-256 of a sequence of buffers, computed on a thread of its own: the caller only copies each
 * buffer there (issue 9: hashing a first backup's 375 MiB archive took its main thread ~1.5 s,
 * while the reader threads' core had room). The buffers come back to be used again: left to the
 * thread, which allocates next to nothing, they waited for its rare collections (+50 MiB).
 */
export class HashThread {
  private readonly worker = new Worker(THREAD_SOURCE, { eval: true });
  /** The digest once asked for, or why the thread ended without one. */
  private readonly outcome: Promise<string | Error>;
  private readonly free: ArrayBuffer[] = [];
  private queued = 0;
  private readonly waiting: (() => void)[] = [];
  /** Set once the thread has answered the digest or died: nothing more can be hashed. */
  private ended = false;

  constructor() {
    this.outcome = new Promise((resolve) => {
      this.worker.on('message', (reply: ArrayBuffer | string) => {
        if (typeof reply === 'string') return resolve(reply);
        this.queued -= reply.byteLength;
        this.free.push(reply);
        if (this.queued <= MAX_QUEUED_BYTES) this.release();
      });
      this.worker.on('error', resolve);
      this.worker.on('exit', (code) => resolve(new Error(`the hashing thread exited (code ${code})`)));
    });
    // A thread that ends early must not leave a caller waiting for room (update then refuses).
    void this.outcome.then(() => {
      this.ended = true;
      this.release();
    });
  }

  /**
   * Hashes `parts` next, in order (a copy: the caller keeps them). Resolves once the thread has
   * room for more (at most MAX_QUEUED_BYTES wait there), so memory stays bounded.
   */
  update(...parts: readonly Uint8Array[]): Promise<void> {
    if (this.ended) return Promise.reject(new IoError('cannot hash the object: the hashing thread has ended'));
    let length = 0;
    for (const part of parts) length += part.byteLength;
    const buffer = this.bufferFor(length);
    const into = new Uint8Array(buffer);
    for (let i = 0, offset = 0; i < parts.length; offset += parts[i]!.byteLength, i++) into.set(parts[i]!, offset);
    this.queued += buffer.byteLength;
    this.worker.postMessage({ buffer, length }, [buffer]);
    if (this.queued <= MAX_QUEUED_BYTES) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** The hex digest of everything given, after which the thread ends. */
  async digestHex(): Promise<string> {
    this.worker.postMessage(null);
    const outcome = await this.outcome;
    await this.worker.terminate();
    if (outcome instanceof Error) throw new IoError(`cannot hash the object: ${outcome.message}`, { cause: outcome });
    return outcome;
  }

  /** Ends the thread without a digest; never rejects. */
  async stop(): Promise<void> {
    await this.worker.terminate().catch(() => undefined);
  }

  /** A buffer back from the thread that holds `size` bytes, or a new one. */
  private bufferFor(size: number): ArrayBuffer {
    const at = this.free.findIndex((buffer) => buffer.byteLength >= size);
    return at === -1 ? new ArrayBuffer(Math.max(size, BUFFER_BYTES)) : this.free.splice(at, 1)[0]!;
  }

  private release(): void {
    for (const resume of this.waiting.splice(0)) resume();
  }
}

/** The file-hashing thread's code (CommonJS, evaluated): reads the file at `workerData` itself, 1 MiB at a time. */
const FILE_THREAD_SOURCE = `
const { parentPort, workerData: path } = require('node:worker_threads');
const fs = require('node:fs');
const hash = require('node:crypto').createHash('sha256');
let fd = -1;
try {
  fd = fs.openSync(path, 'r');
  if (!fs.fstatSync(fd).isFile()) throw Object.assign(new Error('not a file: ' + path), { code: 'ENOENT' });
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  let size = 0;
  for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0; size += n) hash.update(buffer.subarray(0, n));
  parentPort.postMessage({ sha256: hash.digest('hex'), size });
} catch (err) {
  parentPort.postMessage({ error: { code: err.code, message: err.message } });
} finally {
  if (fd !== -1) fs.closeSync(fd);
}
`;

/**
 * Hex SHA-256 and size of the file at `path`, read and hashed on a thread of its own: the caller's
 * thread does nothing meanwhile (issue 9: a restore's hash of its archive, fed from a main thread
 * busy checking the entry table, took ~0.8 s instead of ~0.3 s). Fails with the fs error (its `code`).
 */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const worker = new Worker(FILE_THREAD_SOURCE, { eval: true, workerData: path });
  try {
    const reply = await new Promise<{ sha256: string; size: number } | { error: { code?: string; message: string } }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the hashing thread exited (code ${code})`)));
    });
    if ('error' in reply) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
    return reply;
  } finally {
    await worker.terminate().catch(() => undefined);
  }
}
