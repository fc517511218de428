import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { BackupRecord } from '@tresor/catalog';
import { IntegrityError, TresorError } from '@tresor/errors';
import { ArchiveSet } from '../archives.js';
import { hashObject } from '../io.js';
import { archiveKey } from '../layout.js';
import { loadManifest } from '../manifests.js';
import type { Repository } from '../repository.js';

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
}

/**
 * Checks one backup. Without keys: the signed manifest, and the stored archive's size and SHA-256.
 * Deep: decrypts the archive, and checks every entry's content wherever it is stored.
 */
export async function verifyBackup(repo: Repository, backup: BackupRecord, options: VerifyOptions = {}): Promise<VerifyReport> {
  const deep = options.deep ?? false;
  let entriesChecked = 0;
  try {
    const { manifest, sha256 } = await loadManifest(repo, backup.id);
    if (sha256 !== backup.manifestSha256) {
      throw new IntegrityError(`backup ${backup.id}: manifest differs from the one recorded in the catalog`);
    }
    const stored = await hashObject(repo.store, archiveKey(backup.id)).catch((err: unknown) => {
      throw err instanceof TresorError ? err : new IntegrityError(`backup ${backup.id}: archive unreadable: ${String(err)}`);
    });
    if (stored.size !== manifest.archive.size) {
      throw new IntegrityError(
        `backup ${backup.id}: archive ${archiveKey(backup.id)} is ${stored.size} bytes, manifest says ${manifest.archive.size}`,
      );
    }
    if (stored.sha256 !== manifest.archive.sha256) {
      throw new IntegrityError(`backup ${backup.id}: archive ${archiveKey(backup.id)} SHA-256 does not match its manifest`);
    }
    if (deep) {
      const archives = new ArchiveSet(repo);
      const reader = await archives.open(backup.id);
      await reader.verifyPayload();
      for await (const entry of reader.entries({ expectedEntriesRoot: manifest.entriesRoot })) {
        entriesChecked++;
        if (entry.type !== 'file') continue;
        const data = entry.data!;
        const content = (await archives.open(data.backupId)).openContent(data);
        const hash = createHash('sha256');
        let size = 0;
        await pipeline(content, async function (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            size += chunk.length;
          }
        });
        if (size !== entry.size || hash.digest('hex') !== entry.sha256) {
          throw new IntegrityError(`backup ${backup.id}: entry ${entry.path} does not match its recorded size and SHA-256`);
        }
      }
    }
    return { backupId: backup.id, ok: true, deep, entriesChecked };
  } catch (err) {
    if (!(err instanceof IntegrityError) && !(err instanceof TresorError && err.code === 'NOT_FOUND')) throw err;
    return { backupId: backup.id, ok: false, deep, problem: err.message, entriesChecked };
  }
}
