import type { Readable } from 'node:stream';
import { UsageError } from '@tresor/errors';
import type {
  ByteRange,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
  StoreCapabilities,
} from '../../object-store.js';

/** At most `limit` operations of one location in flight; a get holds its slot until its stream is done. */
export class LimitedStore implements ObjectStore {
  readonly location: string;
  readonly capabilities: StoreCapabilities;
  /** Present when the inner store has it: tier changes move no bytes through this process. */
  readonly setStorageClass?: (key: string, storageClass: string) => Promise<void>;
  readonly rehydrate?: (key: string, options: { days: number }) => Promise<void>;
  readonly retainedUntil?: (key: string) => Promise<Date | undefined>;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly inner: ObjectStore,
    private readonly limit: number,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new UsageError(`parallelism ${limit} is not a positive integer`);
    this.location = inner.location;
    this.capabilities = inner.capabilities;
    const { setStorageClass, rehydrate, retainedUntil } = inner;
    if (retainedUntil) this.retainedUntil = (key) => this.slot(() => retainedUntil.call(inner, key));
    if (setStorageClass)
      this.setStorageClass = (key, storageClass) => this.slot(() => setStorageClass.call(inner, key, storageClass));
    if (rehydrate) this.rehydrate = (key, options) => this.slot(() => rehydrate.call(inner, key, options));
  }

  put(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<PutResult> {
    return this.slot(() => this.inner.put(key, body, options));
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    await this.acquire();
    try {
      const stream = await this.inner.get(key, range);
      stream.once('close', () => this.release());
      return stream;
    } catch (err) {
      this.release();
      throw err;
    }
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.slot(() => this.inner.head(key));
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  delete(key: string): Promise<void> {
    return this.slot(() => this.inner.delete(key));
  }

  private async slot<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }
}
