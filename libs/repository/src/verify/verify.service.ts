import { hash } from 'node:crypto';
import type { Entry } from '@tresor/archive';
import type { BackupRecord } from '@tresor/catalog';
import { IntegrityError, TresorError } from '@tresor/errors';
import { ArchiveSet } from '../archives.js';
import { locateVerifiedCopy } from '../io.js';
import { archiveKey } from '../layout.js';
import { loadManifest } from '../manifests.js';
import type { Repository } from '../repository.js';
import { ContentChecker } from './content-checker.js';

export interface VerifyOptions {
  /** Also decrypt: every frame, the entry table against its signed root, every entry's SHA-256. */
  readonly deep?: boolean;
  /** Shared by the backups of one run (`verify --all`): each archive is opened, and each stored content checked, once. */
  readonly run?: VerifyRun;
}

/**
 * What the checks of one verify run share. Incremental backups refer to their ancestors' content,
 * so checking each backup on its own decompresses and hashes unchanged content once per backup;
 * a run checks each stored content reference (archive, range, codec, size, SHA-256) once. Their
 * entry tables repeat most lines byte for byte (an unchanged file's entry names the same content),
 * so a line that passed every check in the run (valid entry, content checked) is not parsed again.
 */
export class VerifyRun {
  readonly archives: ArchiveSet;
  /** Per archive: offset of checked content -> the rest of its reference. */
  private readonly checked = new Map<string, Map<number, string>>();
  /** lineKey of each entry-table line that passed every check. */
  private readonly lines = new Set<string>();

  constructor(repo: Repository) {
    this.archives = new ArchiveSet(repo);
  }

  /** Whether this entry's content reference was already checked, with the same size and SHA-256, in this run. */
  has(entry: Entry): boolean {
    return this.checked.get(entry.data!.backupId)?.get(entry.data!.offset) === referenceOf(entry);
  }

  /** Whether a table line with these exact bytes (by lineKey) already passed every check in this run. */
  hasLine(key: string): boolean {
    return this.lines.has(key);
  }

  /**
   * Forgets every check recorded so far: one read an archive whose hash then failed, and a later
   * backup must not pass on what it learned there (its restore would refuse that archive).
   */
  forgetChecks(): void {
    this.checked.clear();
    this.lines.clear();
  }

  /** Records an entry that passed every check: its content reference if it has one, its table line if known. */
  add(entry: Entry, line?: string): void {
    if (line !== undefined) this.lines.add(line);
    if (!entry.data) return;
    let offsets = this.checked.get(entry.data.backupId);
    if (!offsets) this.checked.set(entry.data.backupId, (offsets = new Map()));
    if (!offsets.has(entry.data.offset)) offsets.set(entry.data.offset, referenceOf(entry));
  }
}

/** A table line's identity for VerifyRun: its SHA-256 in hex (looked up in a Set twice as fast as the binary string). */
export function lineKey(bytes: Buffer): string {
  return hash('sha256', bytes, 'hex');
}

function referenceOf(entry: Entry): string {
  const { length, codec } = entry.data!;
  return `${length}/${codec}/${entry.size}/${entry.sha256}`;
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
  const run = options.run ?? new VerifyRun(repo);
  const archives = run.archives;
  const warningsBefore = archives.warnings.length;
  let entriesChecked = 0;
  let warnings: readonly string[] = [];
  try {
    const { manifest, sha256 } = await loadManifest(repo, backup.id);
    if (sha256 !== backup.manifestSha256) {
      throw new IntegrityError(`backup ${backup.id}: manifest differs from the one recorded in the catalog`);
    }
    const key = archiveKey(backup.id);
    const locating = locateVerifiedCopy(repo.store, key, manifest.archive, (stored) =>
      stored.size !== manifest.archive.size
        ? `backup ${backup.id}: archive ${key} is ${stored.size} bytes, manifest says ${manifest.archive.size}`
        : `backup ${backup.id}: archive ${key} SHA-256 does not match its manifest`,
    ).catch((err: unknown) => {
      throw err instanceof TresorError ? err : new IntegrityError(`backup ${backup.id}: archive unreadable: ${String(err)}`);
    });
    // With one storage location a deep check reads the only copy there is: it does so while the
    // copy is hashed rather than after (issue 9: the hash of a 375 MiB archive was ~0.4 s of a
    // deep verify, alone on the main thread). A failed hash is reported before the check's findings.
    const onlyCopy = deep ? archives.onlyCopy() : undefined;
    const hashedMeanwhile = onlyCopy !== undefined;
    const verifiedCopy = () =>
      locating.catch((err: unknown) => {
        if (hashedMeanwhile) run.forgetChecks();
        throw err;
      });
    if (onlyCopy) {
      locating.catch(() => undefined);
      archives.assume(backup.id, onlyCopy, locating);
    } else {
      await archives.locate(backup.id, await locating);
    }
    if (deep) {
      try {
        await checkDeeply(run, backup.id, manifest.entriesRoot, () => entriesChecked++);
      } catch (err) {
        if (hashedMeanwhile) await verifiedCopy();
        throw err;
      }
    }
    const copy = await verifiedCopy();
    // The run's set reports a copy once; this backup's report names its own and those it newly met.
    warnings = [...new Set([...copy.warnings, ...archives.warnings.slice(warningsBefore)])];
    return { backupId: backup.id, ok: true, deep, entriesChecked, warnings };
  } catch (err) {
    if (!(err instanceof IntegrityError) && !(err instanceof TresorError && err.code === 'NOT_FOUND')) throw err;
    return { backupId: backup.id, ok: false, deep, problem: err.message, entriesChecked, warnings };
  }
}

/**
 * Decrypts a backup's archive and checks it: the entry table against its signed root, every
 * entry (a line the run already checked is skipped), every content wherever it is stored, then
 * every payload frame the contents did not take.
 */
async function checkDeeply(run: VerifyRun, backupId: string, entriesRoot: string, counted: () => void): Promise<void> {
  const reader = await run.archives.open(backupId);
  const checker = new ContentChecker(run, backupId);
  try {
    for await (const { first, lines } of reader.entryLines({ expectedEntriesRoot: entriesRoot })) {
      for (let i = 0; i < lines.length; i++) {
        counted();
        const line = lineKey(lines[i]!);
        if (run.hasLine(line)) continue;
        const entry = reader.parseEntryLine(lines[i]!, first + i);
        if (entry.type === 'file') await checker.add(entry, line);
        else run.add(entry, line);
      }
    }
  } catch (err) {
    // A content still being checked lies earlier in the table than a bad line or root: its problem comes first.
    await checker.finish();
    throw err;
  }
  await checker.finish();
  // After the contents: the frames they took were authenticated then, and are not opened twice.
  await reader.verifyPayload();
}
