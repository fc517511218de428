import type { Readable } from 'node:stream';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Attributes, Span } from '@opentelemetry/api';
import { TresorError, redactText } from '@tresor/errors';
import type { ByteRange, ObjectInfo, ObjectStore, PutOptions, PutResult, StoreCapabilities } from '../../object-store.js';

/**
 * An ObjectStore whose put/get/head/list/delete each make an OpenTelemetry client span
 * (`storage.<op>`) under the caller's active span. Attributes: the backend and the key's first
 * segment (`archives/`, `manifests/`…) — never the rest of the key, contents, credentials or
 * options. Without an SDK the spans are the API's no-ops.
 */
export class TracedStore implements ObjectStore {
  readonly location: string;
  readonly capabilities: StoreCapabilities;
  readonly setStorageClass?: (key: string, storageClass: string) => Promise<void>;
  readonly rehydrate?: (key: string, options: { days: number }) => Promise<void>;
  readonly retainedUntil?: (key: string) => Promise<Date | undefined>;

  constructor(
    private readonly inner: ObjectStore,
    private readonly backend: string,
  ) {
    this.location = inner.location;
    this.capabilities = inner.capabilities;
    const { setStorageClass, rehydrate, retainedUntil } = inner;
    if (retainedUntil) this.retainedUntil = (key) => this.traced('retained_until', key, () => retainedUntil.call(inner, key));
    if (setStorageClass) this.setStorageClass = (key, cls) => this.traced('set_storage_class', key, () => setStorageClass.call(inner, key, cls));
    if (rehydrate) this.rehydrate = (key, options) => this.traced('rehydrate', key, () => rehydrate.call(inner, key, options));
  }

  put(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<PutResult> {
    return this.traced('put', key, () => this.inner.put(key, body, options), (span, r) => span.setAttribute('tresor.storage.bytes', r.size));
  }

  /** The span lasts until the stream is read to its end (or fails), which is when the get is done. */
  async get(key: string, range?: ByteRange): Promise<Readable> {
    const span = this.start('get', key, range ? { 'tresor.storage.range_length': range.length ?? -1 } : {});
    try {
      const stream = await context.with(trace.setSpan(context.active(), span), () => this.inner.get(key, range));
      // Listening for 'data' would switch the stream to flowing before its reader is attached: only its end is watched.
      stream.once('error', (err) => finish(span, err));
      stream.once('close', () => finish(span));
      return stream;
    } catch (err) {
      finish(span, err);
      throw err;
    }
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.traced('head', key, () => this.inner.head(key), (span, info) => span.setAttribute('tresor.storage.found', info !== undefined));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const span = this.start('list', prefix);
    let count = 0;
    try {
      for await (const info of this.inner.list(prefix)) {
        count++;
        yield info;
      }
      span.setAttribute('tresor.storage.objects', count);
      finish(span);
    } catch (err) {
      finish(span, err);
      throw err;
    }
  }

  delete(key: string): Promise<void> {
    return this.traced('delete', key, () => this.inner.delete(key));
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  private start(op: string, key: string, extra: Attributes = {}): Span {
    return trace.getTracer('tresor').startSpan(`storage.${op}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'tresor.storage.backend': this.backend, 'tresor.storage.operation': op, 'tresor.storage.key_prefix': keyPrefix(key), ...extra },
    });
  }

  private async traced<T>(op: string, key: string, work: () => Promise<T>, onResult?: (span: Span, result: T) => void): Promise<T> {
    const span = this.start(op, key);
    try {
      const result = await context.with(trace.setSpan(context.active(), span), work);
      onResult?.(span, result);
      finish(span);
      return result;
    } catch (err) {
      finish(span, err);
      throw err;
    }
  }
}

/** Wraps `store` so its operations are traced (see TracedStore). */
export function tracedStore(store: ObjectStore, backend: string): ObjectStore {
  return new TracedStore(store, backend);
}

/** The key's first path segment with its slash: enough to tell archives from manifests, nothing about content. */
export function keyPrefix(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? '' : key.slice(0, slash + 1);
}

const ended = new WeakSet<Span>();

function finish(span: Span, err?: unknown): void {
  if (ended.has(span)) return;
  ended.add(span);
  if (err !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? redactText(err.message) : 'failed' });
    span.setAttribute('error.type', err instanceof TresorError ? err.code : err instanceof Error ? err.name : 'unknown');
  }
  span.end();
}
