import { isAbsolute, join } from 'node:path';
import { SqliteCatalog } from '@tresor/catalog';
import type { LocalConfig } from '@tresor/repository';
import type { ExpectedObject } from '@tresor/storage';

/** What the catalog says about one backup's objects: whose they are, when, and what they hash to. */
export interface BackupFacts {
  readonly source: string;
  readonly completedAt: Date;
  readonly archive: { readonly key: string; readonly sha256: string; readonly size: number };
  readonly manifest: { readonly key: string; readonly sha256: string };
}

/** The backup id an object belongs to (its archive, manifest or keyrings), if any. */
export function backupIdOf(key: string): string | undefined {
  return /^(?:archives\/([^/]+)\.tra|manifests\/([^/]+)\.json|keyrings\/([^/]+)\/.+)$/
    .exec(key)
    ?.slice(1)
    .find((id) => id !== undefined);
}

/**
 * Each backup's source and completion time from the catalog: the backup's own time, because a
 * class change on S3 and GCS rewrites an archive and resets its modified time.
 */
export async function backupFacts(dir: string, config: LocalConfig): Promise<Map<string, BackupFacts>> {
  const path = isAbsolute(config.catalog.path) ? config.catalog.path : join(dir, config.catalog.path);
  const catalog = await SqliteCatalog.open(path);
  try {
    const sources = new Map((await catalog.listSources()).map((s) => [s.id, `${s.kind}:${s.location}`]));
    return new Map(
      (await catalog.listBackups()).map((b) => [
        b.id,
        {
          source: sources.get(b.sourceId) ?? b.sourceId,
          completedAt: new Date(b.completedAt),
          archive: { key: b.archiveKey, sha256: b.archiveSha256, size: b.archiveSize },
          manifest: { key: b.manifestKey, sha256: b.manifestSha256 },
        },
      ]),
    );
  } finally {
    await catalog.close();
  }
}

/** What each archive and manifest must be, from the catalog, for `syncLocations`. */
export function expectedObjects(backups: ReadonlyMap<string, BackupFacts>): Map<string, ExpectedObject> {
  const expected = new Map<string, ExpectedObject>();
  for (const b of backups.values()) {
    expected.set(b.archive.key, { sha256: b.archive.sha256, size: b.archive.size });
    expected.set(b.manifest.key, { sha256: b.manifest.sha256 });
  }
  return expected;
}
