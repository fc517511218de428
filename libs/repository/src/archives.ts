import { ArchiveReader } from '@tresor/archive';
import { randomAccess } from '@tresor/storage';
import { KeyService } from './keyring/key-service.js';
import { archiveKey } from './layout.js';
import type { Repository } from './repository.js';

/** Opens (and caches) the archives of a restore or verify, unlocking each data key once. */
export class ArchiveSet {
  private readonly readers = new Map<string, Promise<ArchiveReader>>();

  constructor(private readonly repo: Repository) {}

  /** The reader of a backup's archive. */
  open(backupId: string): Promise<ArchiveReader> {
    let reader = this.readers.get(backupId);
    if (!reader) {
      reader = (async () => {
        const source = await randomAccess(this.repo.store, archiveKey(backupId));
        // The newest signed keyring of the backup is preferred over the header's wraps.
        return ArchiveReader.open(source, (keys) => KeyService.of(this.repo).unlockBackup(backupId, keys));
      })();
      this.readers.set(backupId, reader);
    }
    return reader;
  }
}
