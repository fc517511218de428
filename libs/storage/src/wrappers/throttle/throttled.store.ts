import { Readable, Transform } from 'node:stream';
import { UsageError } from '@tresor/errors';
import type {
  ByteRange,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
  StoreCapabilities,
} from '../../object-store.js';
import { TokenBucket } from './token-bucket.js';

/** Caps the bytes per second one location transfers, uploads and downloads together (restic's `limiter`). */
export class ThrottledStore implements ObjectStore {
  readonly location: string;
  readonly capabilities: StoreCapabilities;
  /** Present when the inner store has it: tier changes move no bytes through this process. */
  readonly setStorageClass?: (key: string, storageClass: string) => Promise<void>;
  readonly rehydrate?: (key: string, options: { days: number }) => Promise<void>;
  readonly retainedUntil?: (key: string) => Promise<Date | undefined>;
  private readonly bucket: TokenBucket;

  constructor(
    private readonly inner: ObjectStore,
    bytesPerSecond: number,
  ) {
    if (!Number.isSafeInteger(bytesPerSecond) || bytesPerSecond <= 0) {
      throw new UsageError(`bandwidth limit ${bytesPerSecond} is not a positive number of bytes per second`);
    }
    this.location = inner.location;
    this.capabilities = inner.capabilities;
    if (inner.setStorageClass) this.setStorageClass = inner.setStorageClass.bind(inner);
    if (inner.rehydrate) this.rehydrate = inner.rehydrate.bind(inner);
    if (inner.retainedUntil) this.retainedUntil = inner.retainedUntil.bind(inner);
    this.bucket = new TokenBucket(bytesPerSecond);
  }

  put(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<PutResult> {
    const source = body instanceof Uint8Array ? Readable.from([Buffer.from(body)]) : body;
    const paced = this.paced();
    source.once('error', (err) => paced.destroy(err));
    // The inner store may not listen yet (a LimitedStore queues the put): the error stays on the
    // destroyed stream for it to find, instead of becoming an uncaught exception.
    paced.on('error', () => undefined);
    // The inner store destroys what it was given on failure; pass that on to the caller's stream.
    paced.once('close', () => {
      if (!source.readableEnded) source.destroy();
    });
    return this.inner.put(key, source.pipe(paced), options);
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const stream = await this.inner.get(key, range);
    const paced = this.paced();
    stream.once('error', (err) => paced.destroy(err));
    paced.once('close', () => stream.destroy());
    return stream.pipe(paced);
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  private paced(): Transform {
    const bucket = this.bucket;
    return new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bucket.take(chunk.length).then(() => callback(null, chunk), callback);
      },
    });
  }
}
