import type { BackupRecord } from '@tresor/catalog';
import type { NamedStore, ObjectInfo } from '@tresor/storage';
import { backupIdTime } from '../backup-id.js';

/** What `fsck --repair` did with one orphan object in one location. */
export interface FsckRepair {
  readonly location: string;
  readonly key: string;
  readonly backupId: string;
  /**
   * deleted; young: newer than `olderThanMs` (maybe a backup still running), kept; retained: under
   * WORM retention, deferred like `forget` defers; referenced: a catalogued backup takes content
   * from it, kept; failed: the delete failed (see detail).
   */
  readonly outcome: 'deleted' | 'young' | 'retained' | 'referenced' | 'failed';
  readonly detail?: string;
}

export interface RepairOptions {
  /** Only orphans older than this are deleted: longer than the longest backup job. */
  readonly olderThanMs: number;
  readonly now?: Date;
}

/**
 * Deletes one orphan object (archive, manifest or keyring of a backup the catalog does not know)
 * from one location, unless it is younger than `olderThanMs`, under retention, or something a
 * catalogued backup still reads.
 */
export async function repairOrphan(
  location: NamedStore,
  object: ObjectInfo,
  owner: string,
  catalogued: readonly BackupRecord[],
  options: RepairOptions,
): Promise<FsckRepair> {
  const base = { location: location.name, key: object.key, backupId: owner };
  const now = (options.now ?? new Date()).getTime();
  const reader = catalogued.find((b) => b.dataBackupIds.includes(owner));
  if (reader) return { ...base, outcome: 'referenced', detail: `backup ${reader.id} takes content from backup ${owner}` };
  // The listing's time is when it was really written; the id's time only when a backend gives none.
  const born = object.modified?.getTime() ?? backupIdTime(owner)?.getTime() ?? now;
  if (now - born < options.olderThanMs) {
    return { ...base, outcome: 'young', detail: `written ${Math.round((now - born) / 1000)} s ago, not older than --older-than` };
  }
  try {
    const until = await location.store.retainedUntil?.(object.key);
    if (until && until.getTime() > now) {
      return { ...base, outcome: 'retained', detail: `under retention until ${until.toISOString()}; deferred` };
    }
    await location.store.delete(object.key);
    return { ...base, outcome: 'deleted' };
  } catch (err) {
    return { ...base, outcome: 'failed', detail: (err as Error).message };
  }
}
