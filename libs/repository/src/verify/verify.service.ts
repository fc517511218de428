import { verifyContent } from '@tresor/archive';
import type { Entry } from '@tresor/archive';
import type { BackupRecord } from '@tresor/catalog';
import { IntegrityError, TresorError } from '@tresor/errors';
import { ArchiveSet } from '../archives.js';
import { forEachConcurrent } from '../concurrency.js';
import { locateVerifiedCopy } from '../io.js';
import { archiveKey } from '../layout.js';
import { loadManifest } from '../manifests.js';
import type { Repository } from '../repository.js';

/** Entry contents checked at once, and entries read from the table before they are checked. */
const VERIFY_CONCURRENCY = 8;
const VERIFY_BATCH = 512;

export interface VerifyOptions {
  /** Also decrypt: every frame, the entry table against its signed root, every entry's SHA-256. */
  readonly deep?: boolean;
}

export interface VerifyReport {
  readonly backupId: string;
  readonly ok: boolean;
  readonly deep: boolean;
  /** The first problem found, naming the object, entry or frame. */
  readonly problem?: string;
  readonly entriesChecked: number;
  /** Bad copies passed over for a good one in another storage location: the backup is intact, the location needs repair. */
  readonly warnings?: readonly string[];
}

/**
 * Checks one backup. Without keys: the signed manifest, and the stored archive's size and SHA-256.
 * Deep: decrypts the archive, and checks every entry's content wherever it is stored.
 */
export async function verifyBackup(repo: Repository, backup: BackupRecord, options: VerifyOptions = {}): Promise<VerifyReport> {
  const deep = options.deep ?? false;
  let entriesChecked = 0;
  let warnings: readonly string[] = [];
  try {
    const { manifest, sha256 } = await loadManifest(repo, backup.id);
    if (sha256 !== backup.manifestSha256) {
      throw new IntegrityError(`backup ${backup.id}: manifest differs from the one recorded in the catalog`);
    }
    const key = archiveKey(backup.id);
    const archives = new ArchiveSet(repo);
    const copy = await locateVerifiedCopy(repo.store, key, manifest.archive, (stored) =>
      stored.size !== manifest.archive.size
        ? `backup ${backup.id}: archive ${key} is ${stored.size} bytes, manifest says ${manifest.archive.size}`
        : `backup ${backup.id}: archive ${key} SHA-256 does not match its manifest`,
    ).catch((err: unknown) => {
      throw err instanceof TresorError ? err : new IntegrityError(`backup ${backup.id}: archive unreadable: ${String(err)}`);
    });
    await archives.locate(backup.id, copy);
    warnings = archives.warnings;
    if (deep) {
      const reader = await archives.open(backup.id);
      await reader.verifyPayload();
      const checkContent = async (entry: Entry) => {
        const source = await archives.open(entry.data!.backupId);
        try {
          await verifyContent(source, entry);
        } catch (err) {
          if (err instanceof IntegrityError) throw new IntegrityError(`backup ${backup.id}: ${err.message}`, { cause: err });
          throw err;
        }
      };
      let batch: Entry[] = [];
      for await (const entry of reader.entries({ expectedEntriesRoot: manifest.entriesRoot })) {
        entriesChecked++;
        if (entry.type === 'file') batch.push(entry);
        if (batch.length >= VERIFY_BATCH) {
          await forEachConcurrent(batch, VERIFY_CONCURRENCY, checkContent);
          batch = [];
        }
      }
      await forEachConcurrent(batch, VERIFY_CONCURRENCY, checkContent);
    }
    return { backupId: backup.id, ok: true, deep, entriesChecked, warnings: archives.warnings };
  } catch (err) {
    if (!(err instanceof IntegrityError) && !(err instanceof TresorError && err.code === 'NOT_FOUND')) throw err;
    return { backupId: backup.id, ok: false, deep, problem: err.message, entriesChecked, warnings };
  }
}
