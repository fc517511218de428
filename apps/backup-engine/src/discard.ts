import type { Catalog } from '@tresor/catalog';
import type { Logger } from '@tresor/messaging';
import type { ObjectStore } from '@tresor/storage';
import { ownerOfObject } from '@tresor/repository';

/**
 * Deletes the objects a failed backup attempt stored (archive, manifest, keyring), unless the
 * catalog records their backup: the attempt will never be catalogued (a retry or another worker
 * writes under a new backup id), so they would stay as orphans. This covers a commit refused
 * because the source lock was lost (Redis flushed) or the claim superseded, and a commit that
 * failed after the archive was stored. What this cannot delete (the bus or catalog unreachable, the
 * engine killed) is left to the orphan sweep (docs/reliability.md).
 */
export async function discardUncommitted(deps: { catalog: Pick<Catalog, 'getBackup'>; store: ObjectStore; logger: Logger }, written: ReadonlySet<string>): Promise<void> {
  const owners = new Set([...written].map((key) => ownerOfObject(key)).filter((id): id is string => typeof id === 'string'));
  for (const owner of owners) {
    try {
      // A catalogued backup keeps its objects: its commit succeeded even if the reply did not arrive.
      if (await deps.catalog.getBackup(owner)) continue;
      const keys = [...written].filter((key) => ownerOfObject(key) === owner);
      for (const key of keys) await deps.store.delete(key);
      deps.logger.info({ backupId: owner, keys }, 'deleted the objects of a backup attempt that was not committed');
    } catch (err) {
      deps.logger.warn({ backupId: owner, err: (err as Error).message }, 'could not delete the objects of an uncommitted backup attempt; the orphan sweep will');
    }
  }
}
