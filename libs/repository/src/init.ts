import { randomUUID } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { generateDataKey, generateSigningKeyPair, keyFingerprint, PassphraseKek, RsaPublicKek } from '@tresor/crypto';
import type { KdfParams } from '@tresor/crypto';
import { ConflictError, UsageError } from '@tresor/errors';
import { SqliteCatalog } from '@tresor/catalog';
import type { Codec } from '@tresor/archive';
import { DEFAULT_COMPRESSION, REPOSITORY_FORMAT_VERSION } from './config.js';
import type { KekDescriptor, LocalConfig, RepositoryDescriptor } from './config.js';
import { localPaths, REPOSITORY_OBJECT } from './layout.js';
import { openStorage } from './storage-config.js';
import type { StorageConfig } from './storage-config.js';
import { kekVersionKey } from './keyring/kek-versions.js';
import type { KekVersionBody } from './keyring/kek-versions.js';
import { signWith } from './keyring/signed-object.js';
import { buildSlot } from './keyring/slots.js';
import type { SlotSpec } from './keyring/slots.js';

export type InitKek =
  | { type: 'passphrase'; passphrase: string; kdf?: KdfParams['alg'] }
  | { type: 'rsa-oaep-sha256'; publicKeyPem: string }
  /** Several key slots (passphrase, public keys, HSM, KMS), any one of which opens every backup. */
  | { type: 'slots'; slots: readonly SlotSpec[]; cryptoperiodDays?: number };

export interface InitOptions {
  readonly kek: InitKek;
  readonly compression?: { codec: Codec; level: number };
  /** Where the objects go; `objects/` in the repository directory when omitted. */
  readonly storage?: StorageConfig;
}

/** Creates a standalone repository in `dir` (which must not exist or be empty). */
export async function initRepository(dir: string, options: InitOptions): Promise<LocalConfig> {
  await ensureEmptyDir(dir);
  // Every slot proves its provider works (canary wrap) before anything is written.
  const slots = options.kek.type === 'slots' ? await Promise.all(options.kek.slots.map((spec) => buildSlot(spec))) : undefined;
  const paths = localPaths(dir);
  await mkdir(paths.keysDir, { mode: 0o700 });
  await mkdir(paths.tmp, { mode: 0o700 });

  const signing = generateSigningKeyPair();
  const signingKeyId = keyFingerprint(signing.publicKeyPem);
  await writeFile(paths.signingKey, signing.privateKeyPem, { mode: 0o600, flag: 'wx' });

  const descriptor: RepositoryDescriptor = {
    formatVersion: REPOSITORY_FORMAT_VERSION,
    repositoryId: randomUUID(),
    createdAt: new Date().toISOString(),
    kek: await describeKek(options.kek),
    signing: { alg: 'ed25519', keyId: signingKeyId, publicKeyPem: signing.publicKeyPem },
  };
  const storage: StorageConfig = options.storage ?? { type: 'local', path: 'objects' };
  const store = await openStorage(storage, dir);
  if (options.kek.type === 'slots' && slots) {
    const version: KekVersionBody = {
      formatVersion: 1,
      repositoryId: descriptor.repositoryId,
      version: 1,
      createdAt: descriptor.createdAt,
      ...(options.kek.cryptoperiodDays ? { cryptoperiodDays: options.kek.cryptoperiodDays } : {}),
      slots,
    };
    await store.put(kekVersionKey(1), signWith(signing.privateKeyPem, signingKeyId, version));
  }
  await store.put(REPOSITORY_OBJECT, Buffer.from(JSON.stringify(descriptor, null, 2) + '\n'));
  await store.close?.();

  const config: LocalConfig = {
    formatVersion: REPOSITORY_FORMAT_VERSION,
    repositoryId: descriptor.repositoryId,
    storage,
    catalog: { type: 'sqlite', path: 'catalog.db' },
    compression: options.compression ?? DEFAULT_COMPRESSION,
    signingKeyId,
  };
  const catalog = await SqliteCatalog.open(paths.catalog);
  await catalog.close();
  // Written last: a repository directory without tresor.json is an unfinished init, not a repository.
  await writeFile(paths.config, JSON.stringify(config, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  return config;
}

async function describeKek(kek: InitKek): Promise<KekDescriptor> {
  if (kek.type === 'slots') {
    if (kek.slots.length === 0) throw new UsageError('a repository needs at least one key slot');
    return { type: 'versioned' };
  }
  if (kek.type === 'rsa-oaep-sha256') {
    const wrapper = RsaPublicKek.fromPem(kek.publicKeyPem);
    return { type: 'rsa-oaep-sha256', kekId: wrapper.kekId, publicKeyPem: kek.publicKeyPem };
  }
  const passphraseKek = await PassphraseKek.derive(kek.passphrase, PassphraseKek.newKdfParams(kek.kdf));
  return { type: 'passphrase', check: await passphraseKek.wrap(generateDataKey()) };
}

async function ensureEmptyDir(dir: string): Promise<void> {
  try {
    const names = await readdir(dir);
    if (names.length > 0) {
      const what = names.includes('tresor.json') ? 'a repository already exists' : 'the directory is not empty';
      throw new ConflictError(`cannot create a repository at ${dir}: ${what}`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }
}
