import type { Entry } from '@tresor/archive';
import type { BackupRecord } from '@tresor/catalog';
import { ConflictError, IntegrityError, IoError, TresorError } from '@tresor/errors';
import { compileEntryQuery } from '@tresor/catalog';
import { ArchiveSet } from '../archives.js';
import { loadManifest } from '../manifests.js';
import type { Repository } from '../repository.js';
import { inspectTarget, Staging } from './staging.js';
import { TreeWriter } from './tree-writer.js';
import { forEachConcurrent } from '../concurrency.js';

/** Files written at once: hides the latency of each file's handful of syscalls. */
const WRITE_CONCURRENCY = 8;

export interface RestoreOptions {
  readonly target: string;
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  /** Report what would be restored; write nothing. */
  readonly dryRun?: boolean;
  /** Restore into a non-empty target, replacing the files the backup has and keeping the others. */
  readonly overwrite?: boolean;
  readonly onProgress?: (progress: { files: number; bytes: number; path: string }) => void;
  /**
   * Names the staging directory after this key (a job id) instead of at random: an attempt of the
   * same job that was killed mid-write left it behind, and the next attempt removes it.
   */
  readonly stagingKey?: string;
}

export interface RestoreResult {
  readonly backupId: string;
  readonly target: string;
  readonly dryRun: boolean;
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly bytes: number;
  readonly durationMs: number;
  /** Paths restored (or, in a dry run, that would be). */
  readonly paths: readonly string[];
  /** Storage copies passed over for a good one in another location (corrupt, missing, unreachable). */
  readonly warnings?: readonly string[];
}

/**
 * Restores a backup into a target directory. Everything is verified before the first byte is
 * written (manifest signatures, stored object hashes, the entry table against its signed root),
 * each file is checked against its SHA-256 as it is written, and the tree is assembled in a
 * staging directory that replaces the target in one rename. On any failure the target is left
 * exactly as it was.
 */
export async function runRestore(repo: Repository, backup: BackupRecord, options: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const { manifest } = await loadManifest(repo, backup.id);
  // Every archive is checked against its signed manifest before the first byte is written; with
  // several storage locations, the first good copy of each is the one read.
  const archives = new ArchiveSet(repo);
  for (const id of new Set([backup.id, ...manifest.dataBackupIds])) await archives.locate(id);
  const reader = await archives.open(backup.id);
  const filter = compileEntryQuery({ include: options.include, exclude: options.exclude });
  const dirs = new Map<string, Entry>();
  const selected: Entry[] = [];
  const symlinks = new Set<string>();
  for await (const entry of reader.entries({ expectedEntriesRoot: manifest.entriesRoot })) {
    if (entry.type === 'dir') dirs.set(entry.path, entry);
    if (entry.type === 'symlink') symlinks.add(entry.path);
    if (filter(entry.path)) selected.push(entry);
  }
  refuseWritesThroughSymlinks(selected, symlinks);

  const counts = count(selected);
  const paths = selected.map((e) => e.path);
  const state = await inspectTarget(options.target);
  if (state === 'non-empty' && !options.overwrite) {
    throw new ConflictError(`restore target ${options.target} is not empty: use --overwrite to restore over it, or another --target`);
  }
  if (options.dryRun) {
    return { backupId: backup.id, target: options.target, dryRun: true, ...counts, durationMs: Date.now() - started, paths, warnings: archives.warnings };
  }

  const staging = await Staging.create(options.target, state !== 'missing', state === 'non-empty', options.stagingKey);
  try {
    const tree = new TreeWriter(staging.dir);
    let files = 0;
    let bytes = 0;
    for (const entry of selected) if (entry.type === 'dir') await tree.writeDir(entry);
    await forEachConcurrent(
      selected.filter((e) => e.type === 'file'),
      WRITE_CONCURRENCY,
      async (entry) => {
        const data = entry.data!;
        const source = await archives.open(data.backupId);
        // Key files are read and decompressed in one go; larger or unusual content is streamed.
        const content = await source.readSmallContent(data, entry.size);
        if (content) await tree.writeFileBytes(entry, content);
        else await tree.writeFile(entry, source.openContent(data, entry.size));
        files++;
        bytes += entry.size;
        options.onProgress?.({ files, bytes, path: entry.path });
      },
    );
    // Symlinks last, so no file is ever written through one of them.
    for (const entry of selected) if (entry.type === 'symlink') await tree.writeSymlink(entry);

    const touchedDirs = impliedDirs(selected, dirs);
    await forEachConcurrent(selected.filter((e) => e.type !== 'dir'), WRITE_CONCURRENCY, (e) => tree.applyMetadata(e));
    // Deepest directories first: setting a parent's mtime before its children would be undone.
    for (const dir of touchedDirs.sort((a, b) => b.path.length - a.path.length)) await tree.applyMetadata(dir);

    await staging.commit();
  } catch (err) {
    await staging.discard();
    // A filesystem failure at the target (disk full, permission, quota) is an I/O error (exit 8), not a bug.
    if (!(err instanceof TresorError) && typeof (err as NodeJS.ErrnoException).code === 'string') {
      throw new IoError(`restore into ${options.target} failed, the target is left as it was: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
  return { backupId: backup.id, target: options.target, dryRun: false, ...counts, durationMs: Date.now() - started, paths, warnings: archives.warnings };
}

/** An entry below a symlink of the same backup would be written through it: refuse the archive. */
function refuseWritesThroughSymlinks(entries: readonly Entry[], symlinks: ReadonlySet<string>): void {
  if (symlinks.size === 0) return;
  for (const entry of entries) {
    const segments = entry.path.split('/');
    for (let i = 1; i < segments.length; i++) {
      const prefix = segments.slice(0, i).join('/');
      if (symlinks.has(prefix)) {
        throw new IntegrityError(`entry ${entry.path} lies below symlink ${prefix}; refusing to restore through it`);
      }
    }
  }
}

/** Directory entries whose metadata must be applied: the selected ones and the parents of selected entries. */
function impliedDirs(selected: readonly Entry[], dirs: ReadonlyMap<string, Entry>): Entry[] {
  const result = new Map<string, Entry>();
  for (const entry of selected) {
    if (entry.type === 'dir') result.set(entry.path, entry);
    const segments = entry.path.split('/');
    for (let i = 1; i < segments.length; i++) {
      const parent = dirs.get(segments.slice(0, i).join('/'));
      if (parent) result.set(parent.path, parent);
    }
  }
  return [...result.values()];
}

function count(entries: readonly Entry[]) {
  let files = 0;
  let dirs = 0;
  let symlinks = 0;
  let bytes = 0;
  for (const e of entries) {
    if (e.type === 'file') {
      files++;
      bytes += e.size;
    } else if (e.type === 'dir') dirs++;
    else symlinks++;
  }
  return { files, dirs, symlinks, bytes };
}
