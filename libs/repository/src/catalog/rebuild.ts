import type { Entry } from '@tresor/archive';
import { ArchiveSet } from '../archives.js';
import { toBackupRecord } from '../backup/backup.service.js';
import { backupIdOfManifestKey, MANIFEST_PREFIX } from '../layout.js';
import { loadManifest } from '../manifests.js';
import type { VerifiedManifest } from '../manifests.js';
import type { Repository } from '../repository.js';

export interface RebuildResult {
  readonly backups: number;
  readonly entries: number;
  /** Manifests that could not be used, with the reason. */
  readonly skipped: readonly { key: string; reason: string }[];
}

/**
 * Recreates the catalog from storage alone: every signed manifest, and the entry table of every
 * archive (which needs the key). Nothing in storage is changed.
 */
export async function rebuildCatalog(repo: Repository): Promise<RebuildResult> {
  const manifests: VerifiedManifest[] = [];
  const skipped: { key: string; reason: string }[] = [];
  for await (const object of repo.store.list(MANIFEST_PREFIX)) {
    const backupId = backupIdOfManifestKey(object.key);
    if (!backupId) continue;
    try {
      manifests.push(await loadManifest(repo, backupId));
    } catch (err) {
      skipped.push({ key: object.key, reason: (err as Error).message });
    }
  }
  manifests.sort((a, b) => a.manifest.createdAt.localeCompare(b.manifest.createdAt));

  const archives = new ArchiveSet(repo);
  await repo.catalog.clear();
  let entries = 0;
  for (const { manifest, sha256 } of manifests) {
    await repo.catalog.ensureSource(manifest.source.kind, manifest.source.location);
    const reader = await archives.open(manifest.backupId);
    const table: Entry[] = [];
    for await (const entry of reader.entries({ expectedEntriesRoot: manifest.entriesRoot })) table.push(entry);
    await repo.catalog.addBackup(toBackupRecord(manifest, sha256), table);
    entries += table.length;
  }
  return { backups: manifests.length, entries, skipped };
}
