import type { Readable } from 'node:stream';
import type { ObjectStore, PutOptions, PutResult } from '@tresor/storage';
import { MANIFEST_PREFIX, ARCHIVE_PREFIX } from '@tresor/repository';
import { BackupStages } from './stages.js';

/**
 * The store a backup job writes through: the archive put marks the job `uploading`, and the
 * manifest put — the commit point of a backup — first wins the job's `verifying` transition. A
 * replica whose claim was superseded (it was presumed dead and the job redelivered) loses that
 * transition and never writes a manifest, so one job yields at most one backup. Both puts run in
 * their stage spans (stages.ts). Every key it was asked to put is added to `written`, so a failed
 * attempt can delete what it stored (discardUncommitted).
 */
export function fencedStore(store: ObjectStore, hooks: { archive(): Promise<void>; manifest(): Promise<void> }, stages: BackupStages = new BackupStages(), written: Set<string> = new Set()): ObjectStore {
  return {
    location: store.location,
    capabilities: store.capabilities,
    get: (key, range) => store.get(key, range),
    head: (key) => store.head(key),
    list: (prefix) => store.list(prefix),
    delete: (key) => store.delete(key),
    async put(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<PutResult> {
      const put = async (hook: () => Promise<void>): Promise<PutResult> => {
        await hook();
        // Recorded before the put: an upload whose reply was lost may still have become visible.
        written.add(key);
        return store.put(key, body, options);
      };
      if (key.startsWith(ARCHIVE_PREFIX)) return stages.archive(() => put(() => hooks.archive()));
      if (key.startsWith(MANIFEST_PREFIX)) return stages.commit(() => put(() => hooks.manifest()));
      return put(async () => undefined);
    },
  };
}
