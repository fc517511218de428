import type { ArchiveReader, Entry } from '@tresor/archive';
import { VerifiedTable } from '@tresor/archive';
import type { BackupRecord } from '@tresor/catalog';
import { ConflictError, IntegrityError, IoError, TresorError } from '@tresor/errors';
import { compileEntryQuery } from '@tresor/catalog';
import { ArchiveSet } from '../archives.js';
import { loadManifest } from '../manifests.js';
import type { Repository } from '../repository.js';
import { inspectTarget, Staging } from './staging.js';
import { TreeWriter } from './tree-writer.js';
import { forEachConcurrent, WeightBudget } from '../concurrency.js';

/**
 * Files in flight at once: enough that the writer threads' batches stay full while this thread
 * reads and decrypts the next ones (with 32 this thread waited on them 30 % of a 100k-file restore
 * and they on it 70 %).
 */
const WRITE_CONCURRENCY = 256;
/** Bytes the files in flight may hold, stored and decompressed (a key file a few KB, a small file at most 4 MiB of each). */
const WRITE_BYTES = 32 * 1024 * 1024;
/** What a file too large to restore in one buffer weighs: it is streamed, a few chunks at a time. */
const STREAMED_WEIGHT = 8 * 1024 * 1024;

/** The most paths a restore result lists by default: the list must not grow with the backup (1M paths are ~100 MiB). */
export const LISTED_PATHS_LIMIT = 10_000;

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
  /** The most paths the result lists (default LISTED_PATHS_LIMIT). */
  readonly listedPathsLimit?: number;
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
  /** Paths restored (or, in a dry run, that would be), in table order: the first `listedPathsLimit`. */
  readonly paths: readonly string[];
  /** Set when more entries were restored than `paths` lists. */
  readonly pathsTruncated?: boolean;
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
  // several storage locations, the first good copy of each is the one read. With one location the
  // entry table is read and checked while the archive is hashed (issue 9: ~0.3 s of a 100k-file
  // restore): nothing read is acted on until the hash has passed, and its failure is reported first.
  const archives = new ArchiveSet(repo);
  const dataIds = [...new Set(manifest.dataBackupIds)].filter((id) => id !== backup.id);
  const located = (async () => {
    await archives.locateWhileHashing(backup.id);
    // One at a time, as before: each hash of a large archive has a thread of its own.
    for (const id of dataIds) await archives.locate(id);
  })();
  located.catch(() => undefined);
  const filter = compileEntryQuery({ include: options.include, exclude: options.exclude });
  // The entry table is read again for each step instead of held: a restore's memory then stays
  // bounded by the directories, not the files (1M files held ~530 B each). The reads after the
  // first check each chunk against its digest from the first, which matched the signed root, and
  // skip validating its entries again.
  const verified = new VerifiedTable();
  let reader: ArchiveReader;
  let survey: Survey;
  try {
    reader = await archives.open(backup.id);
    survey = await surveyEntries(reader, manifest.entriesRoot, verified, filter, options.listedPathsLimit ?? LISTED_PATHS_LIMIT);
  } catch (err) {
    await located;
    throw err;
  }
  await located;
  const selectedEntries = async function* (): AsyncGenerator<Entry> {
    for await (const entry of reader.entries({ verified })) if (filter(entry.path)) yield entry;
  };
  const { dirs, counts, paths } = survey;
  if (survey.symlinks.size > 0) for await (const entry of selectedEntries()) refuseWriteThroughSymlink(entry, survey.symlinks);
  const listed = { paths, ...(counts.files + counts.dirs + counts.symlinks > paths.length ? { pathsTruncated: true } : {}) };

  const state = await inspectTarget(options.target);
  if (state === 'non-empty' && !options.overwrite) {
    throw new ConflictError(`restore target ${options.target} is not empty: use --overwrite to restore over it, or another --target`);
  }
  if (options.dryRun) {
    return { backupId: backup.id, target: options.target, dryRun: true, ...counts, durationMs: Date.now() - started, ...listed, warnings: archives.warnings };
  }

  const staging = await Staging.create(options.target, state !== 'missing', state === 'non-empty', options.stagingKey);
  try {
    // A staging directory that is not a clone of the target holds only what this restore writes.
    const tree = new TreeWriter(staging.dir, state !== 'non-empty');
    const touchedDirs = new Set<string>();
    let files = 0;
    let bytes = 0;
    // Second pass: directories and files, each file's metadata with its content (its directory's
    // mtime is set at the end, so later writes in it do not undo anything).
    const budget = new WeightBudget(WRITE_BYTES);
    await forEachConcurrent(selectedEntries(), WRITE_CONCURRENCY, async (entry) => {
      noteDirs(entry, dirs, touchedDirs);
      if (entry.type === 'dir') return tree.writeDir(entry);
      if (entry.type !== 'file') return;
      const data = entry.data!;
      const source = await archives.open(data.backupId);
      // A streamed file holds a few chunks, whatever its size.
      const weight = Math.min(data.length + entry.size, STREAMED_WEIGHT);
      await budget.take(weight);
      try {
        // Key files (zstd) are decompressed, checked and written on a writer thread; other small
        // ones are read and decompressed here in one go; larger or unusual content is streamed.
        const frame = data.codec === 'zstd' ? await source.readSmallCompressed(data, entry.size) : undefined;
        if (!frame || !(await tree.writeFileFrame(entry, frame))) {
          const content = await source.readSmallContent(data, entry.size);
          if (content) await tree.writeFileBytes(entry, content);
          else await tree.writeFile(entry, source.openContent(data, entry.size));
        }
      } finally {
        budget.give(weight);
      }
      files++;
      bytes += entry.size;
      options.onProgress?.({ files, bytes, path: entry.path });
    });
    // Symlinks last (a third pass, only when there are any), so no file is ever written through one of them.
    if (counts.symlinks > 0) {
      for await (const entry of selectedEntries()) {
        if (entry.type !== 'symlink') continue;
        await tree.writeSymlink(entry);
        await tree.applyMetadata(entry);
      }
    }
    // Deepest directories first: a parent given a mode without search permission before its
    // children would refuse them. Those of one depth go together (5,402 round trips to a writer
    // thread one after another were ~0.3 s at the end of a 100k-file restore).
    for (const level of deepestFirst(touchedDirs)) await Promise.all(level.map((path) => tree.applyMetadata(dirs.get(path)!)));

    await staging.commit();
  } catch (err) {
    await staging.discard();
    // A filesystem failure at the target (disk full, permission, quota) is an I/O error (exit 8), not a bug.
    if (!(err instanceof TresorError) && typeof (err as NodeJS.ErrnoException).code === 'string') {
      throw new IoError(`restore into ${options.target} failed, the target is left as it was: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
  return { backupId: backup.id, target: options.target, dryRun: false, ...counts, durationMs: Date.now() - started, ...listed, warnings: archives.warnings };
}

interface Survey {
  readonly dirs: Map<string, Entry>;
  readonly symlinks: Set<string>;
  readonly counts: { files: number; dirs: number; symlinks: number; bytes: number };
  readonly paths: string[];
}

/**
 * The first pass: checks the whole entry table against its signed root, before anything is
 * written, and notes its directories and symlinks, the selection's counts and its first paths.
 */
async function surveyEntries(
  reader: ArchiveReader,
  entriesRoot: string,
  verified: VerifiedTable,
  filter: (path: string) => boolean,
  listLimit: number,
): Promise<Survey> {
  const survey: Survey = { dirs: new Map(), symlinks: new Set(), counts: { files: 0, dirs: 0, symlinks: 0, bytes: 0 }, paths: [] };
  for await (const entry of reader.entries({ expectedEntriesRoot: entriesRoot, recordInto: verified })) {
    if (entry.type === 'dir') survey.dirs.set(entry.path, entry);
    if (entry.type === 'symlink') survey.symlinks.add(entry.path);
    if (!filter(entry.path)) continue;
    tally(survey.counts, entry);
    if (survey.paths.length < listLimit) survey.paths.push(entry.path);
  }
  return survey;
}

/** An entry below a symlink of the same backup would be written through it: refuse the archive. */
function refuseWriteThroughSymlink(entry: Entry, symlinks: ReadonlySet<string>): void {
  const segments = entry.path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const prefix = segments.slice(0, i).join('/');
    if (symlinks.has(prefix)) {
      throw new IntegrityError(`entry ${entry.path} lies below symlink ${prefix}; refusing to restore through it`);
    }
  }
}

/** Paths grouped by depth, the deepest group first. */
function deepestFirst(paths: Iterable<string>): string[][] {
  const levels: string[][] = [];
  for (const path of paths) {
    let depth = 0;
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) depth++;
    (levels[depth] ??= []).push(path);
  }
  return levels.filter((level) => level !== undefined).reverse();
}

/** Records the directories whose metadata a restored entry calls for: itself if a directory, and its parents. */
function noteDirs(entry: Entry, dirs: ReadonlyMap<string, Entry>, touched: Set<string>): void {
  if (entry.type === 'dir') touched.add(entry.path);
  for (let slash = entry.path.indexOf('/'); slash !== -1; slash = entry.path.indexOf('/', slash + 1)) {
    const parent = entry.path.slice(0, slash);
    if (dirs.has(parent)) touched.add(parent);
  }
}

function tally(counts: { files: number; dirs: number; symlinks: number; bytes: number }, e: Entry): void {
  if (e.type === 'file') {
    counts.files++;
    counts.bytes += e.size;
  } else if (e.type === 'dir') counts.dirs++;
  else counts.symlinks++;
}
