import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { AccessTier, ContainerClient } from '@azure/storage-blob';
import { ConflictError, NotFoundError } from '@tresor/errors';
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
import { blocksOf, forEachLimited } from '../remote/blocks.js';
import { hashChecked } from '../remote/hash-check.js';
import { resolveRange } from '../remote/range.js';
import { refuseRetention } from '../remote/retention.js';
import { resolveSecret } from '@tresor/secrets';
import { ColdObjectError, storageClassRank } from '../tiering/storage-class.js';
import { azureAccessTiers } from './config.js';
import type { AzureConfig } from './config.js';
import { toAzureError } from './errors.js';

const MiB = 1024 * 1024;
const retryOptions = { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000 };

/**
 * Objects as block blobs in an Azure container under an optional prefix. A put stages the body
 * as blocks, several in parallel, and commits the block list only after the body's SHA-256
 * matched, with `If-None-Match: *` so that an existing blob is never replaced. Uncommitted blocks
 * are invisible and discarded by the service.
 */
export class AzureStore implements ObjectStore {
  readonly location: string;
  // Immutability policies exist on Azure, but are set per container or version by an
  // administrator, not per put; see docs/storage.md.
  readonly capabilities: StoreCapabilities = {
    immutability: false,
    rangedReads: true,
    serverSideCopy: true,
    storageClasses: azureAccessTiers,
    offlineClasses: ['Archive'],
  };

  private constructor(
    private readonly container: ContainerClient,
    private readonly config: AzureConfig,
    private readonly endpoint: string,
  ) {
    this.location = `azure://${container.containerName}/${config.prefix} at ${endpoint}`;
  }

  /** Connects and checks that the container exists and the credentials are accepted. */
  static async open(config: AzureConfig): Promise<AzureStore> {
    const service = await serviceClient(config);
    // The service URL carries a SAS token when one is used: keep only scheme, host and path.
    const parsed = new URL(service.url);
    const endpoint = `${parsed.origin}${parsed.pathname}`.replace(/\/$/, '');
    const container = service.getContainerClient(config.container);
    const store = new AzureStore(container, config, endpoint);
    try {
      await container.getProperties();
    } catch (err) {
      throw toAzureError(err, `cannot open ${store.location}`, endpoint);
    }
    return store;
  }

  async put(key: string, body: Readable | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const doing = `cannot store object ${key} in ${this.location}`;
    try {
      validateObjectKey(key);
      refuseRetention(options, this.location);
      const expected = normalizeExpectedSha256(options.expectedSha256);
      const blob = this.container.getBlockBlobClient(this.blobName(key));
      const checked = hashChecked(body, expected, `object ${key} for ${this.location}`);
      // Every block id of a blob must have the same length; a random upload id keeps racing writers apart.
      const uploadId = randomBytes(16).toString('hex');
      const ids: string[] = [];
      try {
        await forEachLimited(
          blocksOf(checked, this.config.blockSizeMiB * MiB),
          this.config.concurrency,
          async (block, i) => {
            const id = Buffer.from(`${uploadId}-${i.toString().padStart(6, '0')}`).toString('base64');
            ids[i] = id;
            await blob.stageBlock(id, block, block.length);
          },
        );
      } catch (err) {
        checked.destroy();
        throw err;
      }
      await this.commit(key, ids);
      return { size: checked.bytes, sha256: checked.sha256 };
    } catch (err) {
      if (body instanceof Readable && !body.destroyed) body.destroy();
      throw toAzureError(err, doing, this.endpoint);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    validateObjectKey(key);
    validateByteRange(range);
    if (range?.length === 0) return this.emptyRange(key, range);
    try {
      const response = await this.container
        .getBlobClient(this.blobName(key))
        .download(range?.offset ?? 0, range?.length, { maxRetryRequests: 3 });
      return response.readableStreamBody as Readable;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 416 && range) return this.emptyRange(key, range);
      if ((err as { code?: string }).code === 'BlobArchived') throw await this.coldObjectError(key, err);
      throw toAzureError(err, `cannot read object ${key} in ${this.location}`, this.endpoint);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    validateObjectKey(key);
    try {
      const props = await this.container.getBlobClient(this.blobName(key)).getProperties();
      return {
        key,
        size: props.contentLength ?? 0,
        modified: props.lastModified,
        ...(props.accessTier ? { storageClass: props.accessTier } : {}),
      };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw toAzureError(err, `cannot read object ${key} in ${this.location}`, this.endpoint);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    validateKeyPrefix(prefix);
    try {
      const pages = this.container
        .listBlobsFlat({ prefix: this.config.prefix + prefix })
        .byPage({ maxPageSize: 5000 });
      // Azure lists blob names in lexicographic (byte) order, which for key characters is the contract's order.
      for await (const page of pages) {
        for (const item of page.segment.blobItems) {
          yield {
            key: item.name.slice(this.config.prefix.length),
            size: item.properties.contentLength ?? 0,
            modified: item.properties.lastModified,
            ...(item.properties.accessTier ? { storageClass: item.properties.accessTier } : {}),
          };
        }
      }
    } catch (err) {
      throw toAzureError(err, `cannot list ${prefix || 'objects'} in ${this.location}`, this.endpoint);
    }
  }

  async delete(key: string): Promise<void> {
    validateObjectKey(key);
    try {
      await this.container.getBlobClient(this.blobName(key)).deleteIfExists();
    } catch (err) {
      throw toAzureError(err, `cannot delete object ${key} in ${this.location}`, this.endpoint);
    }
  }

  /** Sets the blob's access tier (Set Blob Tier); from Archive this starts a rehydration. */
  async setStorageClass(key: string, storageClass: string): Promise<void> {
    validateObjectKey(key);
    storageClassRank(this, storageClass);
    const doing = `cannot move object ${key} in ${this.location} to ${storageClass}`;
    const blob = this.container.getBlobClient(this.blobName(key));
    try {
      const props = await blob.getProperties();
      // A blob whose rehydration is pending already has its next tier on the way.
      if (props.accessTier === storageClass || props.archiveStatus !== undefined) return;
      await blob.setAccessTier(storageClass as AccessTier, { rehydratePriority: 'Standard' });
    } catch (err) {
      throw toAzureError(err, doing, this.endpoint);
    }
  }

  /**
   * Rehydrates an Archive blob to Hot (Standard priority, up to 15 hours on Azure). `days` does not
   * apply: the blob stays Hot until tiering moves it again.
   */
  async rehydrate(key: string, _options: { days: number }): Promise<void> {
    await this.setStorageClass(key, 'Hot');
  }

  /** The one-line error for a read Azure refused with BlobArchived. */
  private async coldObjectError(key: string, err: unknown): Promise<unknown> {
    let pending = false;
    try {
      const props = await this.container.getBlobClient(this.blobName(key)).getProperties();
      pending = props.archiveStatus?.startsWith('rehydrate-pending') ?? false;
    } catch {
      // The read's own failure says enough.
    }
    return new ColdObjectError(key, this.location, 'Archive', pending ? 'restore-in-progress' : 'needs-restore', {
      cause: err,
    });
  }

  /** Commits the staged blocks as the blob, unless the blob exists (server-side condition). */
  private async commit(key: string, ids: string[]): Promise<void> {
    const blob = this.container.getBlockBlobClient(this.blobName(key));
    try {
      await blob.commitBlockList(ids, {
        conditions: { ifNoneMatch: '*' },
        ...(this.config.accessTier ? { tier: this.config.accessTier } : {}),
      });
    } catch (err) {
      // A racing writer's commit discards our uncommitted blocks; then the blob exists and that is the conflict.
      if ((err as { code?: string }).code === 'InvalidBlockList' && (await this.head(key)) !== undefined) {
        throw new ConflictError(
          `cannot store object ${key} in ${this.location}: the object already exists; objects are never replaced`,
        );
      }
      throw err;
    }
  }

  private async emptyRange(key: string, range: ByteRange): Promise<Readable> {
    const info = await this.head(key);
    if (info === undefined) throw new NotFoundError(`object ${key} not found in ${this.location}`);
    const { start, end } = resolveRange(range, info.size, key, this.location);
    if (start === end) return Readable.from([], { objectMode: false });
    return this.get(key, { offset: start, length: end - start });
  }

  private blobName(key: string): string {
    return this.config.prefix + key;
  }
}

async function serviceClient(config: AzureConfig): Promise<BlobServiceClient> {
  const what = `azure storage ${config.container}`;
  const options = { retryOptions: { ...retryOptions, tryTimeoutInMs: config.timeoutSeconds * 1000 } };
  if (config.connectionString) {
    return BlobServiceClient.fromConnectionString(
      await resolveSecret(config.connectionString, `${what} connectionString`),
      options,
    );
  }
  const url = config.accountUrl!;
  if (config.accountKey) {
    const key = await resolveSecret(config.accountKey, `${what} accountKey`);
    return new BlobServiceClient(url, new StorageSharedKeyCredential(config.accountName!, key), options);
  }
  const sas = (await resolveSecret(config.sasToken!, `${what} sasToken`)).replace(/^\?/, '');
  return new BlobServiceClient(`${url.replace(/\/$/, '')}?${sas}`, undefined, options);
}
