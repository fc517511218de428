import { ArchiveReader } from '@tresor/archive';
import { randomAccess } from '@tresor/storage';
import type { ArchiveCopy } from './io.js';
import { locateVerifiedCopy } from './io.js';
import { KeyService } from './keyring/key-service.js';
import { archiveKey } from './layout.js';
import { loadManifest } from './manifests.js';
import type { Repository } from './repository.js';

/**
 * Opens (and caches) the archives of a restore or verify, unlocking each data key once. Each
 * archive is read from the first storage location whose copy hashes to what its signed manifest
 * says, so a corrupt or truncated copy in one location falls back to the next.
 */
export class ArchiveSet {
  private readonly copies = new Map<string, Promise<ArchiveCopy>>();
  private readonly readers = new Map<string, Promise<ArchiveReader>>();
  /** Copies passed over so far, one line each. */
  readonly warnings: string[] = [];

  constructor(private readonly repo: Repository) {}

  /** Finds (once) the verified copy of a backup's archive; an IntegrityError if there is none. */
  locate(backupId: string, known?: ArchiveCopy): Promise<ArchiveCopy> {
    let copy = this.copies.get(backupId);
    if (!copy) {
      copy = (async () => {
        const found =
          known ??
          (await (async () => {
            const { manifest } = await loadManifest(this.repo, backupId);
            return locateVerifiedCopy(
              this.repo.store,
              archiveKey(backupId),
              manifest.archive,
              () => `backup ${backupId}: archive ${archiveKey(backupId)} does not match its manifest (corrupt or replaced)`,
            );
          })());
        this.warnings.push(...found.warnings);
        return found;
      })();
      this.copies.set(backupId, copy);
    }
    return copy;
  }

  /**
   * Takes `copy` as a backup's archive while `verified` still hashes it, for a check that reads
   * it meanwhile (one storage location: there is no other copy to choose). If `verified` fails,
   * the copy and its reader are forgotten: nothing later in the run reads an unverified archive.
   */
  assume(backupId: string, copy: ArchiveCopy, verified: Promise<unknown>): void {
    if (this.copies.has(backupId)) return;
    this.copies.set(backupId, Promise.resolve(copy));
    verified.catch(() => {
      this.copies.delete(backupId);
      this.readers.delete(backupId);
    });
  }

  /** The reader of a backup's archive. */
  open(backupId: string): Promise<ArchiveReader> {
    let reader = this.readers.get(backupId);
    if (!reader) {
      reader = (async () => {
        const { store } = await this.locate(backupId);
        const source = await randomAccess(store, archiveKey(backupId));
        // The newest signed keyring of the backup is preferred over the header's wraps.
        return ArchiveReader.open(source, (keys) => KeyService.of(this.repo).unlockBackup(backupId, keys));
      })();
      this.readers.set(backupId, reader);
    }
    return reader;
  }
}
