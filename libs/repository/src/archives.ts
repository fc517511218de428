import { ArchiveReader } from '@tresor/archive';
import { copiesOf, randomAccess } from '@tresor/storage';
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
      copy = known ? this.noted(Promise.resolve(known)) : this.verifiedCopy(backupId);
      this.copies.set(backupId, copy);
    }
    return copy;
  }

  /**
   * Locates a backup's archive as `locate` does, but with one storage location (no other copy to
   * choose) its copy can be read at once, while it is hashed. The promise settles when the hash
   * has passed: a caller reads meanwhile, but acts on nothing it read before it resolves.
   */
  locateWhileHashing(backupId: string): Promise<ArchiveCopy> {
    const only = this.onlyCopy();
    if (!only || this.copies.has(backupId)) return this.locate(backupId);
    const verified = this.verifiedCopy(backupId);
    this.assume(backupId, only, verified);
    return verified;
  }

  /**
   * The copy an archive can only be read from when the repository has one storage location (the
   * store locateVerifiedCopy reads and hashes: the location's, inside a replicated store of one),
   * for a caller that reads it while it is hashed; undefined with several locations to choose from.
   */
  onlyCopy(): ArchiveCopy | undefined {
    const locations = copiesOf(this.repo.store);
    return locations.length === 1 ? { store: locations[0]!.store, warnings: [] } : undefined;
  }

  private verifiedCopy(backupId: string): Promise<ArchiveCopy> {
    return this.noted(
      loadManifest(this.repo, backupId).then(({ manifest }) =>
        locateVerifiedCopy(
          this.repo.store,
          archiveKey(backupId),
          manifest.archive,
          () => `backup ${backupId}: archive ${archiveKey(backupId)} does not match its manifest (corrupt or replaced)`,
        ),
      ),
    );
  }

  /** The copy, once its warnings are the run's. */
  private async noted(copy: Promise<ArchiveCopy>): Promise<ArchiveCopy> {
    const found = await copy;
    this.warnings.push(...found.warnings);
    return found;
  }

  /**
   * Takes `copy` as a backup's archive while `verified` still hashes it, for a check that reads
   * it meanwhile (one storage location: there is no other copy to choose). If `verified` fails,
   * the copy and its reader are forgotten: nothing later in the run reads an unverified archive.
   */
  assume(backupId: string, copy: ArchiveCopy, verified: Promise<unknown>): void {
    if (this.copies.has(backupId)) return;
    const assumed = Promise.resolve(copy);
    this.copies.set(backupId, assumed);
    verified.catch(() => {
      if (this.copies.get(backupId) !== assumed) return;
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
