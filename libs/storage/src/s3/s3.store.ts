import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  RestoreObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { PutObjectCommandInput, StorageClass } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NotFoundError, UnsupportedError } from '@tresor/errors';
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
import { refuseRetention, validateRetention } from '../remote/retention.js';
import { resolveSecret } from '@tresor/secrets';
import { storageClassRank } from '../tiering/storage-class.js';
import { s3OfflineClasses, s3StorageClasses } from './config.js';
import type { S3Config } from './config.js';
import { toS3ColdReadError, toS3Error } from './errors.js';

const MiB = 1024 * 1024;

/**
 * Objects in an S3 bucket (AWS or any S3-compatible server) under an optional key prefix.
 * Puts stream through lib-storage's multipart upload with `If-None-Match: *`: the upload is
 * completed only after the body's SHA-256 matched (see HashCheck), and the server refuses it when
 * the key exists, so a put never replaces and two writers cannot both win.
 */
export class S3Store implements ObjectStore {
  readonly location: string;
  readonly capabilities: StoreCapabilities;
  private readonly endpoint: string;

  private constructor(
    private readonly client: S3Client,
    private readonly config: S3Config,
    objectLock: boolean,
  ) {
    this.endpoint = config.endpoint ?? `AWS ${config.region}`;
    this.location = `s3://${config.bucket}/${config.prefix}${config.endpoint ? ` at ${config.endpoint}` : ''}`;
    this.capabilities = {
      immutability: objectLock,
      rangedReads: true,
      serverSideCopy: true,
      storageClasses: s3StorageClasses,
      offlineClasses: s3OfflineClasses,
    };
  }

  /** Connects and checks bucket and credentials (and whether the bucket has Object Lock) before any use. */
  static async open(config: S3Config): Promise<S3Store> {
    const what = `s3 storage ${config.bucket}`;
    // Node 20 is a recorded decision (STACK.md); the SDK's notice about Node 22 would otherwise end up
    // on the stderr of every tresor command that touches S3. An operator can still turn it on.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const credentials = config.credentials && {
      accessKeyId: await resolveSecret(config.credentials.accessKeyId, `${what} credentials.accessKeyId`),
      secretAccessKey: await resolveSecret(
        config.credentials.secretAccessKey,
        `${what} credentials.secretAccessKey`,
      ),
    };
    const client = new S3Client({
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      maxAttempts: 3,
      // Idle and connect timeouts, not a total one: a large part on a slow link is fine as long as
      // bytes move, a black-holed endpoint is not (docs/reliability.md, fault 19).
      requestHandler: {
        connectionTimeout: config.timeoutSeconds * 1000,
        socketTimeout: config.timeoutSeconds * 1000,
      },
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    });
    try {
      return new S3Store(client, config, await detectObjectLock(client, config));
    } catch (err) {
      client.destroy();
      throw err;
    }
  }

  async put(key: string, body: Readable | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const doing = `cannot store object ${key} in ${this.location}`;
    try {
      validateObjectKey(key);
      validateRetention(options);
      if (!this.capabilities.immutability) refuseRetention(options, this.location);
      const expected = normalizeExpectedSha256(options.expectedSha256);
      const checked = hashChecked(body, expected, `object ${key} for ${this.location}`);
      const upload = new Upload({
        client: this.client,
        params: { ...this.writeParams(key, options), Body: checked },
        partSize: this.config.partSizeMiB * MiB,
        queueSize: this.config.queueSize,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (err) {
        checked.destroy();
        throw err;
      }
      return { size: checked.bytes, sha256: checked.sha256 };
    } catch (err) {
      if (body instanceof Readable && !body.destroyed) body.destroy();
      throw toS3Error(err, doing, this.endpoint);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    validateObjectKey(key);
    validateByteRange(range);
    const doing = `cannot read object ${key} in ${this.location}`;
    // S3 cannot express an empty range; answer it from the object's size.
    if (range?.length === 0) return this.emptyRange(key, range);
    const header = range && (range.offset > 0 || range.length !== undefined) ? rangeHeader(range) : undefined;
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key), Range: header }),
      );
      return response.Body as Readable;
    } catch (err) {
      // 416: the range starts at or past the end; the contract says which of the two it is.
      if (isInvalidRange(err) && range) return this.emptyRange(key, range);
      if ((err as Error).name === 'InvalidObjectState') throw await this.coldObjectError(key, err);
      throw toS3Error(err, doing, this.endpoint);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    validateObjectKey(key);
    return (await this.headRaw(key))?.info;
  }

  /** The Object Lock retention of the current version (HEAD; needs s3:GetObjectRetention to be reported). */
  async retainedUntil(key: string): Promise<Date | undefined> {
    validateObjectKey(key);
    // A bucket without Object Lock cannot retain anything: no request needed.
    if (!this.capabilities.immutability) return undefined;
    return (await this.headRaw(key))?.retainUntil;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    validateKeyPrefix(prefix);
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.config.bucket,
            Prefix: this.config.prefix + prefix,
            ContinuationToken: token,
          }),
        );
      } catch (err) {
        throw toS3Error(err, `cannot list ${prefix || 'objects'} in ${this.location}`, this.endpoint);
      }
      // S3 lists in UTF-8 byte order, which for key characters is the contract's order.
      for (const item of page.Contents ?? []) {
        if (item.Key === undefined) continue;
        yield {
          key: item.Key.slice(this.config.prefix.length),
          size: item.Size ?? 0,
          modified: item.LastModified,
          // S3 leaves the class out for STANDARD.
          storageClass: item.StorageClass ?? 'STANDARD',
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(key: string): Promise<void> {
    validateObjectKey(key);
    const doing = `cannot delete object ${key} in ${this.location}`;
    const current = await this.headRaw(key);
    if (current === undefined) return;
    try {
      // In a versioned (Object Lock) bucket a delete without a version only hides the object behind a
      // delete marker; naming the version removes it for real, and is what retention refuses.
      await this.client.send(
        new DeleteObjectCommand({
          Bucket: this.config.bucket,
          Key: this.objectKey(key),
          VersionId: current.versionId,
        }),
      );
    } catch (err) {
      throw toS3Error(err, doing, this.endpoint);
    }
  }

  /**
   * Rewrites the object onto itself in `storageClass` (CopyObject, server-side). Refused on an
   * Object Lock bucket: the copy would be a new version without the old one's retention, and the
   * locked old version would stay billed in its class; a bucket lifecycle rule moves locked
   * versions in place instead.
   */
  async setStorageClass(key: string, storageClass: string): Promise<void> {
    validateObjectKey(key);
    storageClassRank(this, storageClass);
    const doing = `cannot move object ${key} in ${this.location} to ${storageClass}`;
    if (this.capabilities.immutability) {
      throw new UnsupportedError(
        `${doing}: the bucket has Object Lock, and a copy would drop the retention; move locked objects with an S3 lifecycle rule (transitions keep the lock)`,
      );
    }
    const current = await this.headRaw(key);
    if (current === undefined) throw new NotFoundError(`${doing}: no such object`);
    if (current.info.storageClass === storageClass) return;
    const sse = this.config.serverSideEncryption;
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.config.bucket,
          Key: this.objectKey(key),
          CopySource: `${this.config.bucket}/${this.objectKey(key)}`,
          // Only this version: an object replaced meanwhile (which Tresor never does) is not copied.
          ...(current.etag ? { CopySourceIfMatch: current.etag } : {}),
          StorageClass: storageClass as StorageClass,
          MetadataDirective: 'COPY',
          ...(sse?.type === 'sse-s3' ? { ServerSideEncryption: 'AES256' } : {}),
          ...(sse?.type === 'sse-kms' ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: sse.kmsKeyId } : {}),
        }),
      );
    } catch (err) {
      throw toS3Error(err, doing, this.endpoint);
    }
  }

  /**
   * Asks S3 for a temporary readable copy of an object in GLACIER or DEEP_ARCHIVE (RestoreObject),
   * kept for `days`. Returns at once; the copy is ready hours later. A restore already running is
   * not an error.
   */
  async rehydrate(key: string, options: { days: number }): Promise<void> {
    validateObjectKey(key);
    const doing = `cannot request a restore of object ${key} in ${this.location}`;
    try {
      await this.client.send(
        new RestoreObjectCommand({
          Bucket: this.config.bucket,
          Key: this.objectKey(key),
          RestoreRequest: { Days: options.days, GlacierJobParameters: { Tier: 'Standard' } },
        }),
      );
    } catch (err) {
      if ((err as Error).name === 'RestoreAlreadyInProgress') return;
      throw toS3Error(err, doing, this.endpoint);
    }
  }

  /** Closes the client's sockets. */
  async close(): Promise<void> {
    this.client.destroy();
  }

  private writeParams(key: string, options: PutOptions): PutObjectCommandInput {
    const sse = this.config.serverSideEncryption;
    return {
      Bucket: this.config.bucket,
      Key: this.objectKey(key),
      IfNoneMatch: '*',
      ...(sse?.type === 'sse-s3' ? { ServerSideEncryption: 'AES256' } : {}),
      ...(sse?.type === 'sse-kms' ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: sse.kmsKeyId } : {}),
      ...(this.config.storageClass ? { StorageClass: this.config.storageClass } : {}),
      ...(options.retainUntil
        ? {
            ObjectLockMode: options.retentionMode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE',
            ObjectLockRetainUntilDate: options.retainUntil,
          }
        : {}),
    };
  }

  private async headRaw(
    key: string,
  ): Promise<
    { info: ObjectInfo; versionId?: string; etag?: string; restore?: string; retainUntil?: Date } | undefined
  > {
    try {
      const response = await this.client.send(
        new HeadObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }),
      );
      return {
        info: {
          key,
          size: response.ContentLength ?? 0,
          modified: response.LastModified,
          storageClass: response.StorageClass ?? 'STANDARD',
        },
        versionId: response.VersionId,
        etag: response.ETag,
        restore: response.Restore,
        retainUntil: response.ObjectLockRetainUntilDate,
      };
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
        return undefined;
      throw toS3Error(err, `cannot read object ${key} in ${this.location}`, this.endpoint);
    }
  }

  /** The one-line error for a read S3 refused with InvalidObjectState (an archived object). */
  private async coldObjectError(key: string, err: unknown): Promise<unknown> {
    let head;
    try {
      head = await this.headRaw(key);
    } catch {
      head = undefined;
    }
    return toS3ColdReadError(
      err,
      key,
      this.location,
      this.endpoint,
      head && {
        storageClass: head.info.storageClass,
        restore: head.restore,
      },
    );
  }

  private async emptyRange(key: string, range: ByteRange): Promise<Readable> {
    const info = await this.head(key);
    if (info === undefined) throw new NotFoundError(`object ${key} not found in ${this.location}`);
    const { start, end } = resolveRange(range, info.size, key, this.location);
    if (start === end) return Readable.from([], { objectMode: false });
    return this.get(key, { offset: start, length: end - start });
  }

  private objectKey(key: string): string {
    return this.config.prefix + key;
  }
}

/** Whether the bucket has Object Lock; also the first authenticated call, so bad credentials fail here. */
async function detectObjectLock(client: S3Client, config: S3Config): Promise<boolean> {
  try {
    const response = await client.send(new GetObjectLockConfigurationCommand({ Bucket: config.bucket }));
    return response.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
  } catch (err) {
    if ((err as Error).name === 'ObjectLockConfigurationNotFoundError') return false;
    throw toS3Error(
      err,
      `cannot open s3://${config.bucket}/${config.prefix}`,
      config.endpoint ?? `AWS ${config.region}`,
    );
  }
}

function rangeHeader(range: ByteRange): string {
  const last = range.length === undefined ? '' : String(range.offset + range.length - 1);
  return `bytes=${range.offset}-${last}`;
}

function isInvalidRange(err: unknown): boolean {
  return (
    (err as Error).name === 'InvalidRange' ||
    (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416
  );
}
