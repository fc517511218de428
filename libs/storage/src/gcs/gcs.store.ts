import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Storage } from '@google-cloud/storage';
import type { Bucket, StorageOptions } from '@google-cloud/storage';
import { NotFoundError, UnsupportedError, UsageError } from '@tresor/errors';
import { normalizeExpectedSha256, validateByteRange } from '../arguments.js';
import { validateKeyPrefix, validateObjectKey } from '../keys.js';
import type {
  ByteRange,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
  StoreCapabilities,
} from '../object-store.js';
import { hashChecked } from '../remote/hash-check.js';
import { resolveRange } from '../remote/range.js';
import { refuseRetention } from '../remote/retention.js';
import { resolveSecret } from '@tresor/secrets';
import { storageClassRank } from '../tiering/storage-class.js';
import { gcsStorageClasses } from './config.js';
import type { GcsConfig } from './config.js';
import { toGcsError } from './errors.js';

const MiB = 1024 * 1024;
const defaultEndpoint = 'https://storage.googleapis.com';

/**
 * Objects in a GCS bucket under an optional prefix. Puts are resumable uploads with
 * `ifGenerationMatch: 0` (the server refuses them when the object exists); the upload is
 * finalized by its last chunk, which is only sent once the body's SHA-256 matched, so a failed or
 * mismatching put leaves an unfinished session the service discards, never an object.
 */
export class GcsStore implements ObjectStore {
  readonly location: string;
  // Object retention exists on GCS but is not implemented here yet (fake-gcs-server cannot prove it).
  readonly capabilities: StoreCapabilities = {
    immutability: false,
    rangedReads: true,
    serverSideCopy: true,
    storageClasses: gcsStorageClasses,
  };

  private constructor(
    private readonly bucket: Bucket,
    private readonly config: GcsConfig,
    private readonly endpoint: string,
  ) {
    this.location = `gs://${config.bucket}/${config.prefix}${config.apiEndpoint ? ` at ${config.apiEndpoint}` : ''}`;
  }

  /** Connects and checks that the bucket exists and the credentials are accepted. */
  static async open(config: GcsConfig): Promise<GcsStore> {
    const endpoint = config.apiEndpoint ?? defaultEndpoint;
    const options: StorageOptions = {
      ...(config.projectId ? { projectId: config.projectId } : {}),
      ...(config.apiEndpoint ? { apiEndpoint: config.apiEndpoint } : {}),
      retryOptions: { maxRetries: 2 },
      timeout: config.timeoutSeconds * 1000,
    };
    if (config.keyFile) {
      const text = await resolveSecret(config.keyFile, `gcs storage ${config.bucket} keyFile`);
      try {
        options.credentials = JSON.parse(text) as StorageOptions['credentials'];
      } catch {
        throw new UsageError(`gcs storage ${config.bucket} keyFile: not a JSON service-account key`);
      }
      // With a custom endpoint the client sends no credentials unless told to.
      if (config.apiEndpoint) options.useAuthWithCustomEndpoint = true;
    }
    const store = new GcsStore(new Storage(options).bucket(config.bucket), config, endpoint);
    try {
      await store.bucket.getMetadata();
    } catch (err) {
      throw toGcsError(err, `cannot open ${store.location}`, endpoint);
    }
    return store;
  }

  async put(key: string, body: Readable | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const doing = `cannot store object ${key} in ${this.location}`;
    try {
      validateObjectKey(key);
      refuseRetention(options, this.location);
      const expected = normalizeExpectedSha256(options.expectedSha256);
      const checked = hashChecked(body, expected, `object ${key} for ${this.location}`);
      const upload = this.bucket.file(this.objectName(key)).createWriteStream({
        resumable: true,
        chunkSize: this.config.chunkSizeMiB * MiB,
        preconditionOpts: { ifGenerationMatch: 0 },
        ...(this.config.storageClass ? { metadata: { storageClass: this.config.storageClass } } : {}),
      });
      await pipeline(checked, upload);
      return { size: checked.bytes, sha256: checked.sha256 };
    } catch (err) {
      if (body instanceof Readable && !body.destroyed) body.destroy();
      throw toGcsError(err, doing, this.endpoint);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    validateObjectKey(key);
    validateByteRange(range);
    // The size decides what a range means (and a read stream reports a missing object only later).
    const info = await this.head(key);
    if (info === undefined) throw new NotFoundError(`object ${key} not found in ${this.location}`);
    const { start, end } = resolveRange(range, info.size, key, this.location);
    if (start === end) return Readable.from([], { objectMode: false });
    const whole = start === 0 && end === info.size;
    return this.bucket
      .file(this.objectName(key))
      .createReadStream(whole ? {} : { start, end: end - 1, validation: false });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    validateObjectKey(key);
    try {
      const [meta] = await this.bucket.file(this.objectName(key)).getMetadata();
      return {
        key,
        size: Number(meta.size ?? 0),
        modified: meta.updated ? new Date(meta.updated) : undefined,
        ...(meta.storageClass ? { storageClass: meta.storageClass } : {}),
      };
    } catch (err) {
      if ((err as { code?: unknown }).code === 404) return undefined;
      throw toGcsError(err, `cannot read object ${key} in ${this.location}`, this.endpoint);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    validateKeyPrefix(prefix);
    let pageToken: string | undefined;
    do {
      let files, next;
      try {
        [files, next] = await this.bucket.getFiles({
          prefix: this.config.prefix + prefix,
          autoPaginate: false,
          maxResults: 1000,
          ...(pageToken ? { pageToken } : {}),
        });
      } catch (err) {
        throw toGcsError(err, `cannot list ${prefix || 'objects'} in ${this.location}`, this.endpoint);
      }
      // GCS lists object names in lexicographic (byte) order, the contract's order for key characters.
      for (const file of files) {
        yield {
          key: file.name.slice(this.config.prefix.length),
          size: Number(file.metadata.size ?? 0),
          modified: file.metadata.updated ? new Date(file.metadata.updated) : undefined,
          ...(file.metadata.storageClass ? { storageClass: file.metadata.storageClass } : {}),
        };
      }
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
  }

  async delete(key: string): Promise<void> {
    validateObjectKey(key);
    try {
      await this.bucket.file(this.objectName(key)).delete({ ignoreNotFound: true });
    } catch (err) {
      throw toGcsError(err, `cannot delete object ${key} in ${this.location}`, this.endpoint);
    }
  }

  /**
   * Rewrites the object onto itself in `storageClass` (objects.rewrite: GCS changes a class only by
   * rewriting), guarded by the current generation. The answer is checked, because a server that
   * ignores the class (fake-gcs-server) would otherwise look like a success.
   */
  async setStorageClass(key: string, storageClass: string): Promise<void> {
    validateObjectKey(key);
    storageClassRank(this, storageClass);
    const doing = `cannot move object ${key} in ${this.location} to ${storageClass}`;
    const file = this.bucket.file(this.objectName(key));
    let after: string | undefined;
    try {
      const [meta] = await file.getMetadata();
      if (meta.storageClass === storageClass) return;
      await file.setStorageClass(storageClass, {
        preconditionOpts: { ifGenerationMatch: Number(meta.generation) },
      });
      [{ storageClass: after }] = await file.getMetadata();
    } catch (err) {
      throw toGcsError(err, doing, this.endpoint);
    }
    if (after !== storageClass) {
      throw new UnsupportedError(
        `${doing}: ${this.endpoint} answered the rewrite but kept the object in ${after ?? 'its class'}`,
      );
    }
  }

  private objectName(key: string): string {
    return this.config.prefix + key;
  }
}
