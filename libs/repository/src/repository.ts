import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { IntegrityError } from '@tresor/errors';
import type { Catalog } from '@tresor/catalog';
import { SqliteCatalog } from '@tresor/catalog';
import type { ObjectStore } from '@tresor/storage';
import { parseRepositoryDescriptor, readLocalConfig } from './config.js';
import type { LocalConfig, RepositoryDescriptor } from './config.js';
import { readObject } from './io.js';
import { RepositoryKeys } from './keys.js';
import type { KeySupplier } from './keys.js';
import { localPaths, REPOSITORY_OBJECT } from './layout.js';
import { openStorage } from './storage-config.js';

export * from './storage-config.js';
export * from './storage-edit.js';

export interface OpenOptions {
  /** Told about each storage location that missed a write or could not be opened (write policy quorum). */
  readonly onDegraded?: (location: string, key: string, error: unknown) => void;
}

/** An opened standalone repository: its configuration, storage, catalog and keys. */
export class Repository {
  private constructor(
    readonly dir: string,
    readonly config: LocalConfig,
    readonly descriptor: RepositoryDescriptor,
    readonly store: ObjectStore,
    readonly catalog: Catalog,
    readonly keys: RepositoryKeys,
  ) {}

  /** Opens the repository in `dir`, checking that its storage belongs to it. */
  static async open(dir: string, supplier: KeySupplier, options: OpenOptions = {}): Promise<Repository> {
    const paths = localPaths(dir);
    const config = await readLocalConfig(paths.config);
    const store = await openStorage(config.storage, dir, options.onDegraded);
    const descriptor = parseRepositoryDescriptor(await readObject(store, REPOSITORY_OBJECT), store.location);
    if (descriptor.repositoryId !== config.repositoryId || descriptor.signing.keyId !== config.signingKeyId) {
      throw new IntegrityError(
        `storage ${store.location} holds repository ${descriptor.repositoryId}, not ${config.repositoryId} named in ${paths.config}`,
      );
    }
    const catalogPath = isAbsolute(config.catalog.path) ? config.catalog.path : join(dir, config.catalog.path);
    const catalog = await SqliteCatalog.open(catalogPath);
    const keys = new RepositoryKeys(descriptor.kek, supplier, store.location);
    return new Repository(dir, config, descriptor, store, catalog, keys);
  }

  /** The Ed25519 private key that signs manifests (kept on this host, never in storage). */
  async signingKeyPem(): Promise<string> {
    return readFile(localPaths(this.dir).signingKey, 'utf8');
  }

  /** Scratch space on the same filesystem as the repository (spill files). */
  get tmpDir(): string {
    return localPaths(this.dir).tmp;
  }

  async close(): Promise<void> {
    try {
      await this.catalog.close();
    } finally {
      await this.store.close?.();
    }
  }
}
