import { parseManifest, verifyManifest } from '@tresor/archive';
import type { Manifest } from '@tresor/archive';
import { IntegrityError, NotFoundError } from '@tresor/errors';
import { createHash } from 'node:crypto';
import { readObject } from './io.js';
import { manifestKey } from './layout.js';
import type { Repository } from './repository.js';

/** A manifest read from storage, its signature checked against the repository's signing key. */
export interface VerifiedManifest {
  readonly manifest: Manifest;
  readonly sha256: string;
}

/** Reads and verifies the signed manifest of a backup; fails naming the backup on any problem. */
export async function loadManifest(repo: Repository, backupId: string): Promise<VerifiedManifest> {
  let bytes: Buffer;
  try {
    bytes = await readObject(repo.store, manifestKey(backupId));
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new IntegrityError(`backup ${backupId}: manifest ${manifestKey(backupId)} is missing from ${repo.store.location}`);
    }
    throw err;
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(bytes);
    verifyManifest(manifest, repo.descriptor.signing.publicKeyPem);
  } catch (err) {
    if (err instanceof IntegrityError && !err.message.includes(backupId)) {
      throw new IntegrityError(`backup ${backupId}: ${err.message}`, { cause: err });
    }
    throw err;
  }
  if (manifest.backupId !== backupId || manifest.repositoryId !== repo.descriptor.repositoryId) {
    throw new IntegrityError(`backup ${backupId}: manifest belongs to backup ${manifest.backupId} of another repository or id`);
  }
  return { manifest, sha256: createHash('sha256').update(bytes).digest('hex') };
}
