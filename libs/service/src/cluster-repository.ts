import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Catalog } from '@tresor/catalog';
import type { KeySupplier, Repository } from '@tresor/repository';
import { localPaths, parseRepositoryDescriptor, readLocalConfig, REPOSITORY_OBJECT, RepositoryKeys } from '@tresor/repository';
import type { ObjectStore } from '@tresor/storage';
import { IntegrityError, UsageError, registerSecret } from '@tresor/errors';

/**
 * The repository as the libs' pipelines see it, assembled for cluster mode: storage behind the
 * storage-gateway, the catalog in MongoDB, and from the service host's repository directory only
 * `tresor.json` (compression, pinned signing key id) and the signing key.
 */
export async function openClusterRepository(dir: string, store: ObjectStore, catalog: Catalog, supplier: KeySupplier): Promise<Repository> {
  const paths = localPaths(dir);
  const config = await readLocalConfig(paths.config);
  const chunks: Buffer[] = [];
  for await (const c of await store.get(REPOSITORY_OBJECT)) chunks.push(c as Buffer);
  const descriptor = parseRepositoryDescriptor(Buffer.concat(chunks), store.location);
  if (descriptor.repositoryId !== config.repositoryId || descriptor.signing.keyId !== config.signingKeyId) {
    throw new IntegrityError(`storage ${store.location} holds repository ${descriptor.repositoryId}, not ${config.repositoryId} named in ${paths.config}`);
  }
  const keys = new RepositoryKeys(descriptor.kek, supplier, store.location);
  const repo = {
    dir,
    config,
    descriptor,
    store,
    catalog,
    keys,
    signingKeyPem: () => readFile(paths.signingKey, 'utf8'),
    tmpDir: paths.tmp,
    close: async () => undefined,
  };
  return repo as unknown as Repository;
}

/** Secrets of a service host: the passphrase from a file (preferred) or the environment, never from messages. */
export function serviceKeySupplier(env: NodeJS.ProcessEnv = process.env): KeySupplier {
  return {
    passphrase: async () => {
      if (env.TRESOR_PASSPHRASE_FILE) {
        const passphrase = (await readFile(env.TRESOR_PASSPHRASE_FILE, 'utf8')).replace(/\r?\n$/, '');
        registerSecret(passphrase);
        return passphrase;
      }
      if (env.TRESOR_PASSPHRASE) return env.TRESOR_PASSPHRASE;
      throw new UsageError('this service needs the repository passphrase: set TRESOR_PASSPHRASE_FILE (or TRESOR_PASSPHRASE)');
    },
    identityPem: async () => {
      if (!env.TRESOR_IDENTITY) throw new UsageError('this repository needs its private key: set TRESOR_IDENTITY to a PEM file');
      return readFile(join(env.TRESOR_IDENTITY), 'utf8');
    },
  };
}
