import { join } from 'node:path';

/** Object keys inside a repository's storage (see docs/format.md). */
export const REPOSITORY_OBJECT = 'repository.json';
export const ARCHIVE_PREFIX = 'archives/';
export const MANIFEST_PREFIX = 'manifests/';

export const archiveKey = (backupId: string): string => `${ARCHIVE_PREFIX}${backupId}.tra`;
export const manifestKey = (backupId: string): string => `${MANIFEST_PREFIX}${backupId}.json`;

/** The backup id a manifest key names, or undefined for anything else under manifests/. */
export function backupIdOfManifestKey(key: string): string | undefined {
  const match = /^manifests\/([A-Za-z0-9._-]+)\.json$/.exec(key);
  return match?.[1];
}

/** Files of a standalone repository directory on the host that runs the CLI. */
export function localPaths(repoDir: string) {
  return {
    config: join(repoDir, 'tresor.json'),
    catalog: join(repoDir, 'catalog.db'),
    keysDir: join(repoDir, 'keys'),
    signingKey: join(repoDir, 'keys', 'signing.pem'),
    objects: join(repoDir, 'objects'),
    tmp: join(repoDir, 'tmp'),
  };
}
