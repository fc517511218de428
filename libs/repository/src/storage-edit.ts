import { rename, writeFile } from 'node:fs/promises';
import { ConflictError } from '@tresor/errors';
import { parseStorageLocation } from '@tresor/storage';
import type { LocalConfig } from './config.js';
import { readLocalConfig } from './config.js';
import { localPaths } from './layout.js';
import type { StorageConfig } from './storage-config.js';

/**
 * Adds a storage location to the repository in `dir` and returns the new storage config. The
 * single-location form becomes a location named `local`. The file is replaced atomically (0600).
 */
export async function addStorageLocation(
  dir: string,
  location: unknown,
  writePolicy?: 'all' | 'quorum',
): Promise<StorageConfig> {
  const file = localPaths(dir).config;
  const config = await readLocalConfig(file);
  const current = multi(config.storage);
  const parsed = parseStorageLocation(location, dir);
  if (current.locations.some((l) => (l as { name?: unknown }).name === parsed.name)) {
    throw new ConflictError(`${file}: a storage location named ${parsed.name} already exists`);
  }
  const storage: StorageConfig = {
    locations: [...current.locations, location],
    writePolicy: writePolicy ?? current.writePolicy,
  };
  await writeConfig(file, { ...config, storage });
  return storage;
}

function multi(storage: StorageConfig): { locations: unknown[]; writePolicy: 'all' | 'quorum' } {
  if ('locations' in storage) return storage;
  return { locations: [{ name: 'local', type: 'local', path: storage.path }], writePolicy: 'all' };
}

async function writeConfig(file: string, config: LocalConfig): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  await rename(temp, file);
}
