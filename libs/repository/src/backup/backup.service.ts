import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { ArchiveWriter, contentPreparation, preparedContent, serializeManifest, signManifest } from '@tresor/archive';
import type { Codec, DataRef, Entry, Inheritance, Manifest, PreparedContent } from '@tresor/archive';
import type { BackupLevel, BackupRecord, BackupStaging } from '@tresor/catalog';
import { generateDataKey } from '@tresor/crypto';
import { IoError } from '@tresor/errors';
import { isSourceProblem, readTimesOf } from '@tresor/source';
import type { ReadTimes, Source, SourceEntry, SourceProblem } from '@tresor/source';
import { hashStream } from '@tresor/storage';
import type { PutResult } from '@tresor/storage';
import { newBackupId } from '../backup-id.js';
import { KeyService } from '../keyring/key-service.js';
import { archiveKey, manifestKey } from '../layout.js';
import type { Repository } from '../repository.js';
import { ParentCursor } from './parent-cursor.js';
import type { ParentEntry } from './parent-cursor.js';
import { chooseParent } from './parent.js';
import { readAhead } from './read-ahead.js';
import { StartedEarly } from './started-early.js';

/**
 * Files read ahead of the one being stored, and their bytes at most: enough runs of small files
 * in flight that the reader threads never wait for the main thread's next request (issue 9:
 * 32 left them ~70 % idle), bounded in memory whatever the file sizes.
 */
const READ_AHEAD = { depth: 256, maxWeight: 32 * 1024 * 1024 };
/** Larger files are streamed when their turn comes rather than read ahead whole. */
const READ_AHEAD_MAX_FILE = 1024 * 1024;

export interface BackupOptions {
  readonly level: BackupLevel;
  readonly compression?: { codec: Codec; level: number };
  readonly tags?: readonly string[];
  /** Continue past files that cannot be read, recording a warning for each. */
  readonly skipUnreadable?: boolean;
  readonly onProgress?: (progress: BackupProgress) => void;
}

export interface BackupProgress {
  readonly files: number;
  readonly bytesIn: number;
  readonly path: string;
}

export interface BackupResult {
  readonly backupId: string;
  readonly requestedLevel: BackupLevel;
  readonly level: BackupLevel;
  readonly parentId: string | null;
  readonly createdAt: string;
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly bytesIn: number;
  readonly bytesStored: number;
  readonly archiveSize: number;
  readonly reusedFiles: number;
  readonly durationMs: number;
  readonly warnings: readonly string[];
}

/**
 * Backs up a source into a new archive, manifest and catalog record. The manifest is the
 * commit point: until it is stored the backup does not exist, and a failure leaves at most an
 * unreferenced archive that `verify` and `catalog rebuild` ignore.
 */
export async function runBackup(repo: Repository, source: Source, options: BackupOptions): Promise<BackupResult> {
  const started = Date.now();
  const createdAt = new Date();
  const backupId = newBackupId(createdAt);
  const compression = options.compression ?? repo.config.compression;
  const sourceRecord = await repo.catalog.ensureSource(source.kind, source.location);
  const { level, parent } = await chooseParent(repo.catalog, sourceRecord.id, options.level);

  const useParent = parent && level !== 'full' ? parent : undefined;
  const chainIds = useParent ? useParent.dataBackupIds : [];
  // Sizes of content already stored: a changed large file is hashed (to find it again) only when
  // content of its size exists; otherwise it is stored in a single read. The parent's sizes take a
  // pass over its entries, made only if such a file turns up (never in a no-change backup).
  const knownSizes = new Set<number>();
  let parentSizesLoaded: Promise<void> | undefined;
  const isKnownSize = async (size: number): Promise<boolean> => {
    parentSizesLoaded ??= (async () => {
      if (useParent) for await (const entry of repo.catalog.entries(useParent.id)) if (entry.data) knownSizes.add(entry.size);
    })();
    await parentSizesLoaded;
    return knownSizes.has(size);
  };
  const previousEntries = new ParentCursor(useParent ? repo.catalog.entries(useParent.id) : undefined);

  // Started before the data key is wrapped (a passphrase's key derivation, ~0.1 s): the scan's
  // thread and the catalog's start up meanwhile instead of after it.
  const scanned = new StartedEarly(source.scanBatches ? source.scanBatches() : batchesOf(source.scan()));
  const dek = generateDataKey();
  const body = new PassThrough();
  let putting: Promise<PutResult> | undefined;
  // Storage failing first (a full disk, a lost location) is the cause; the writer then only sees
  // its output closed ("The operation was aborted"), which must not be what the operator reads.
  let putFailure: unknown;
  // The catalog indexes the entry table while the archive is written, where it can (off this thread).
  let staging: BackupStaging | undefined;
  let writer: ArchiveWriter;
  try {
    const taking = (staging = repo.catalog.stageBackup?.(backupId, useParent?.id));
    // One wrap per slot of the current KEK version (like LUKS key slots): any one opens the backup;
    // a tenant's source is wrapped for the tenant's slots only (crypto-shredding, ADR 23).
    const { keys: wrapped } = await KeyService.of(repo).wrapDataKey(dek, source);
    putting = repo.store.put(archiveKey(backupId), body);
    putting.catch((err: unknown) => {
      putFailure = err;
      body.destroy(err as Error);
    });
    writer = await ArchiveWriter.create({
      backupId,
      createdAt: createdAt.toISOString(),
      dek,
      keys: wrapped,
      out: body,
      tmpDir: repo.tmpDir,
      onTableLines: taking && ((lines, inherited) => taking.add(lines, inherited)),
      // The catalog copies the entries into place while the table and manifest are written.
      onTableEnd: taking && ((table) => taking.prepare(table)),
    });
  } catch (err) {
    dek.fill(0);
    await scanned.stop();
    await staging?.discard();
    // The error aborts a put in progress; with none (the key could not be wrapped), no one listens for it.
    body.destroy(putting ? (err as Error) : undefined);
    await putting?.catch(() => undefined);
    throw err;
  }
  dek.fill(0);

  const storedHere = new Map<string, DataRef>();
  const dataBackupIds = new Set<string>();
  const warnings: string[] = [];
  const stats = { files: 0, dirs: 0, symlinks: 0, bytesIn: 0, bytesStored: 0, reusedFiles: 0 };

  /** What the scan found, with the parent's entry and, for small changed files, their content being read. */
  interface Planned {
    readonly item: SourceEntry | SourceProblem;
    readonly previous?: Entry;
    /** The index of `previous` in the parent's table. */
    readonly parentPosition?: number;
    /** The bytes, unless the reader thread prepared them (then only `prepared` came back). */
    readonly content?: Buffer;
    /** The content hashed and compressed by the reader thread that read it, when the source can. */
    readonly prepared?: PreparedContent;
    /** The file was modified after the scan saw it (its times moved), whatever its size. */
    readonly rewritten?: boolean;
  }
  // Small files are hashed and compressed where they are read, off the main thread.
  const step = source.readPrepared ? contentPreparation(compression.codec, compression.level) : undefined;
  const readSmall = async (item: SourceEntry): Promise<Pick<Planned, 'content' | 'prepared' | 'rewritten'>> => {
    if (!step) return { content: await readWhole(source, item.path, item.size) };
    const read = await source.readPrepared!(item.path, item.size, step);
    // Times taken on the open handle after the read: a same-size rewrite shows only there.
    const rewritten = read.mtimeNs !== undefined && movedSinceScan(item, { mtimeNs: read.mtimeNs, ctimeMoved: read.ctimeMoved === true });
    const prepared = preparedContent(read.prepared, read.length);
    // The reader kept the bytes only if its step failed; a value it took for prepared but is not gets a plain read.
    const content = prepared || read.content ? read.content : await readWhole(source, item.path, item.size);
    return { content, prepared, rewritten };
  };

  type Prepared = Omit<Planned, 'content' | 'prepared'>;
  const planFrom = (item: SourceEntry | SourceProblem, found: ParentEntry | undefined): Prepared => ({
    item,
    previous: found?.entry,
    parentPosition: found?.position,
  });
  // Without a promise while the parent's entries taken reach past the path (most items).
  const prepare = (item: SourceEntry | SourceProblem): Prepared | Promise<Prepared> => {
    if (isSourceProblem(item)) return planFrom(item, undefined);
    const found = previousEntries.find(item.path);
    return found instanceof Promise ? found.then((hit) => planFrom(item, hit)) : planFrom(item, found);
  };

  // The parent's index of the last table line that was its entry unchanged (see inheritance).
  let lastInherited = -2;
  /**
   * Whether `entry` is the parent's entry unchanged, and its neighbour there: the catalog copies
   * such runs of rows from the parent instead of indexing their lines again.
   */
  const inheritance = (planned: Prepared, entry: Entry): Inheritance | undefined => {
    const position = planned.parentPosition;
    if (position === undefined || !sameEntry(planned.previous!, entry)) return undefined;
    const adjacent = position === lastInherited + 1;
    lastInherited = position;
    return { adjacent };
  };
  /** The file a planned item reads ahead, if it is one: a small file that is new or changed. */
  const fileReadAhead = ({ item, previous }: Prepared): SourceEntry | undefined => {
    if (isSourceProblem(item) || item.type !== 'file' || item.size > READ_AHEAD_MAX_FILE) return undefined;
    return previous?.data && isUnchanged(previous, item) ? undefined : item;
  };
  /** The bytes a planned item holds while read ahead. */
  const weighPlanned = (planned: Prepared): number => fileReadAhead(planned)?.size ?? 0;
  type Started = Planned | { item: SourceEntry; error: unknown };
  /** Starts reading a small new or changed file; anything else is ready as it is. */
  const start = (planned: Prepared): Started | Promise<Started> => {
    const item = fileReadAhead(planned);
    if (!item) return planned;
    return readSmall(item).then(
      // Written out rather than spread: this runs once per file read.
      ({ content, prepared, rewritten }): Started => ({
        item: planned.item,
        previous: planned.previous,
        parentPosition: planned.parentPosition,
        content,
        prepared,
        rewritten,
      }),
      (error: unknown): Started => ({ item, error }),
    );
  };

  /** An unchanged file's entry, recorded without a promise unless the table asks the caller to wait. */
  const reuseUnchanged = (planned: Started): Entry | Promise<Entry> | undefined => {
    if ('error' in planned) return undefined;
    const item = planned.item as SourceEntry;
    const previous = planned.previous;
    if (!previous?.data || !isUnchanged(previous, item)) return undefined;
    return reuse(storedEntry(item, item.size, previous.sha256, previous.data), planned);
  };

  const storeFile = async (planned: Started): Promise<Entry | undefined> => {
    const item = planned.item as SourceEntry;
    if ('error' in planned) return unreadable(item.path, planned.error);
    const { content, prepared, rewritten } = planned;
    const meta = toEntryMeta(item);
    // A size change has its own warning; a rewrite at the same size is only seen by its times. The
    // entry keeps the scan's mtime, so the next backup reads the file again.
    const length = prepared?.size ?? content?.length;
    if (rewritten && length === item.size) warnings.push(sameSizeRewrite(item.path));
    if (length !== undefined) {
      const sha256 = prepared?.sha256 ?? createHash('sha256').update(content!).digest('hex');
      const existing = storedHere.get(sha256) ?? (chainIds.length > 0 ? await repo.catalog.findData(sha256, chainIds) : undefined);
      if (existing) return reuse(storedEntry(item, length, sha256, existing), planned);
      if (prepared) return stored(item, await writer.addPrepared(meta, prepared, compression.codec, compression.level));
      return store(item, meta, Readable.from([content!]));
    }
    if (await isKnownSize(item.size)) {
      const stream = await openReadable(source, item.path);
      if (!(stream instanceof Readable)) return unreadable(item.path, stream.error);
      const { sha256, size } = await hashStream(stream);
      const existing = storedHere.get(sha256) ?? (await repo.catalog.findData(sha256, chainIds));
      if (existing && size === item.size) return checkStreamed(item, stream, await reuse(storedEntry(item, item.size, sha256, existing), planned));
    }
    const stream = await openReadable(source, item.path);
    if (!(stream instanceof Readable)) return unreadable(item.path, stream.error);
    return checkStreamed(item, stream, await store(item, meta, stream));
  };

  /** A streamed file read whole at the scan's size whose times moved was rewritten at the same size: say so. */
  const checkStreamed = (item: SourceEntry, stream: Readable, entry: Entry): Entry => {
    const times = readTimesOf(stream);
    if (times && entry.size === item.size && movedSinceScan(item, times)) warnings.push(sameSizeRewrite(item.path));
    return entry;
  };

  const store = async (item: SourceEntry, meta: Entry, content: Readable): Promise<Entry> => {
    let entry: Entry;
    try {
      entry = await writer.addFile(meta, content, compression.codec, compression.level);
    } catch (err) {
      // A writer that failed before reading leaves the source file open: close it now, not on GC.
      content.destroy();
      throw err;
    }
    return stored(item, entry);
  };

  const stored = (item: SourceEntry, entry: Entry): Entry => {
    if (entry.size !== item.size) warnings.push(`${item.path}: changed size while being read (${item.size} -> ${entry.size} bytes)`);
    storedHere.set(entry.sha256!, entry.data!);
    stats.bytesStored += entry.data!.length;
    knownSizes.add(entry.size);
    return entry;
  };

  /**
   * Adds an entry without content to the table. A promise only when the table's consumers (its
   * file, the catalog's staging) ask for a pause; callers wait for it then.
   */
  const addToTable = (entry: Entry, planned: Planned): Entry | Promise<Entry> => {
    const waiting = writer.addEntry(entry, inheritance(planned, entry));
    return waiting ? waiting.then(() => entry) : entry;
  };

  /** A file's entry whose content is already stored. */
  const reuse = (entry: Entry, planned: Planned): Entry | Promise<Entry> => {
    stats.reusedFiles++;
    return addToTable(entry, planned);
  };

  /** Records a scanned item's entry (undefined: skipped), with a promise only when it had to wait. */
  const recordItem = (planned: Started): Entry | undefined | Promise<Entry | undefined> => {
    const item = planned.item as SourceEntry;
    if (item.type !== 'file') return recordWithoutContent(planned as Planned, item);
    const unchanged = reuseUnchanged(planned);
    if (unchanged === undefined) return storeFile(planned).then(countFile);
    return unchanged instanceof Promise ? unchanged.then(countFile) : countFile(unchanged);
  };

  const countFile = (entry: Entry | undefined): Entry | undefined => {
    if (entry) {
      stats.files++;
      stats.bytesIn += entry.size;
    }
    return entry;
  };

  /** A directory's or symlink's entry. */
  const recordWithoutContent = (planned: Planned, item: SourceEntry): Entry | Promise<Entry> => {
    if (item.type === 'dir') stats.dirs++;
    else stats.symlinks++;
    return addToTable(toEntryMeta(item), planned);
  };

  const skip = (path: string, why: string): undefined => {
    warnings.push(`${path}: skipped (${why})`);
    return undefined;
  };

  const unreadable = (path: string, error: unknown): undefined => {
    // Deleting a file is a normal change to a live key store: the backup records the rest.
    if (vanished(error)) return skip(path, 'deleted while the backup ran');
    if (options.skipUnreadable) return skip(path, 'unreadable');
    const message = error instanceof Error ? error.message : String(error);
    throw new IoError(`cannot read ${path} in ${source.location}: ${message} (--skip-unreadable continues past it)`, {
      cause: error,
    });
  };

  try {
    for await (const ready of readAhead(scanned, { ...READ_AHEAD, weigh: weighPlanned }, prepare, start)) {
      for (const planned of ready) {
        const item = planned.item;
        if (isSourceProblem(item)) {
          handleProblem(item, options.skipUnreadable ?? false, warnings);
          continue;
        }
        const recorded = recordItem(planned);
        const entry = recorded instanceof Promise ? await recorded : recorded;
        if (!entry) continue;
        if (entry.data) dataBackupIds.add(entry.data.backupId);
        options.onProgress?.({ files: stats.files, bytesIn: stats.bytesIn, path: item.path });
      }
    }
    const finished = await writer.finish();
    const stored = await putting;

    const manifest = await signManifest(
      {
        formatVersion: 1,
        repositoryId: repo.descriptor.repositoryId,
        backupId,
        source: { id: sourceRecord.id, kind: source.kind, location: source.location },
        level,
        parentId: parent?.id ?? null,
        createdAt: createdAt.toISOString(),
        completedAt: new Date().toISOString(),
        tags: [...(options.tags ?? [])],
        archive: { key: archiveKey(backupId), sha256: stored.sha256, size: stored.size },
        entriesRoot: finished.entriesRoot,
        entryCount: finished.entryCount,
        dataBackupIds: [...dataBackupIds].sort(),
        stats,
      },
      await repo.signingKeyPem(),
      repo.descriptor.signing.keyId,
    );
    const manifestBytes = Buffer.from(serializeManifest(manifest));
    const manifestPut = await repo.store.put(manifestKey(backupId), manifestBytes);
    const record = toBackupRecord(manifest, manifestPut.sha256);
    if (staging) await staging.commit(record, finished);
    else await repo.catalog.addBackup(record, writer.writtenEntries());

    return {
      backupId,
      requestedLevel: options.level,
      level,
      parentId: parent?.id ?? null,
      createdAt: manifest.createdAt,
      files: stats.files,
      dirs: stats.dirs,
      symlinks: stats.symlinks,
      bytesIn: stats.bytesIn,
      bytesStored: stats.bytesStored,
      archiveSize: stored.size,
      reusedFiles: stats.reusedFiles,
      durationMs: Date.now() - started,
      warnings,
    };
  } catch (err) {
    await writer.abort(err as Error);
    body.destroy(err as Error);
    await putting.catch(() => undefined);
    // The put failing on its own (not because of `err` passed to it above) is the real cause.
    throw putFailure !== undefined && !causedBy(putFailure, err) ? putFailure : err;
  } finally {
    await staging?.discard();
    await writer.release();
  }
}

/** The catalog's view of a manifest. */
export function toBackupRecord(manifest: Manifest, manifestSha256: string): BackupRecord {
  return {
    id: manifest.backupId,
    sourceId: manifest.source.id,
    level: manifest.level,
    parentId: manifest.parentId,
    createdAt: manifest.createdAt,
    completedAt: manifest.completedAt,
    tags: manifest.tags,
    archiveKey: manifest.archive.key,
    archiveSha256: manifest.archive.sha256,
    archiveSize: manifest.archive.size,
    manifestKey: manifestKey(manifest.backupId),
    manifestSha256,
    dataBackupIds: manifest.dataBackupIds,
    files: manifest.stats.files,
    dirs: manifest.stats.dirs,
    bytesIn: manifest.stats.bytesIn,
    bytesStored: manifest.stats.bytesStored,
  };
}

function toEntryMeta(item: SourceEntry): Entry {
  const entry: Entry = {
    path: item.path,
    type: item.type,
    mode: item.mode,
    uid: item.uid,
    gid: item.gid,
    mtimeNs: item.mtimeNs,
    size: item.type === 'file' ? item.size : 0,
    ino: item.ino,
  };
  return item.linkTarget === undefined ? entry : { ...entry, linkTarget: item.linkTarget };
}

/** A file's entry with content already stored: built in one literal (a spread per unchanged file cost more). */
function storedEntry(item: SourceEntry, size: number, sha256: string | undefined, data: DataRef): Entry {
  const { path, type, mode, uid, gid, mtimeNs, ino } = item;
  return { path, type, mode, uid, gid, mtimeNs, size, ino, sha256, data };
}

/** The same entry field for field (what the catalog keeps of it): a copy of one is the other. */
function sameEntry(a: Entry, b: Entry): boolean {
  return (
    a.path === b.path &&
    a.type === b.type &&
    a.mode === b.mode &&
    a.uid === b.uid &&
    a.gid === b.gid &&
    a.mtimeNs === b.mtimeNs &&
    a.size === b.size &&
    a.ino === b.ino &&
    a.sha256 === b.sha256 &&
    a.linkTarget === b.linkTarget &&
    sameData(a.data, b.data)
  );
}

function sameData(a: DataRef | undefined, b: DataRef | undefined): boolean {
  // Usually the very object: an unchanged file's entry takes the parent's data ref.
  if (a === b) return true;
  return a !== undefined && b !== undefined && a.backupId === b.backupId && a.offset === b.offset && a.length === b.length && a.codec === b.codec;
}

/** Size, mtime and inode all equal: the file is taken as unchanged without reading it. */
function isUnchanged(previous: Entry, item: SourceEntry): boolean {
  return previous.type === 'file' && previous.size === item.size && previous.mtimeNs === item.mtimeNs && previous.ino === item.ino;
}

/** The file's times after the read say it changed since the scan: another mtime, or a ctime that moved during the read. */
function movedSinceScan(item: SourceEntry, after: ReadTimes): boolean {
  return after.ctimeMoved || after.mtimeNs !== item.mtimeNs;
}

/** The warning for a file rewritten at the same size between the scan and the end of its read. */
function sameSizeRewrite(path: string): string {
  // The entry keeps the scan's mtime, so the next backup reads the file again.
  return `${path}: changed while being read (modified after the scan, same size); stored as read`;
}

/** Opens a file's content, surfacing permission errors before any byte reaches the archive. */
async function openReadable(source: Source, path: string): Promise<Readable | { error: unknown }> {
  const stream = source.open(path);
  try {
    await once(stream, 'readable');
    return stream;
  } catch (error) {
    stream.destroy();
    return { error };
  }
}

/** True when `err` is `cause` or has it somewhere in its cause chain. */
function causedBy(err: unknown, cause: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && depth < 8; e = (e as Error).cause, depth++) if (e === cause) return true;
  return false;
}

/** True when a read failed because the file was deleted after the scan saw it. */
function vanished(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return true;
  }
  return false;
}

function handleProblem(problem: SourceProblem, skipUnreadable: boolean, warnings: string[]): void {
  const fatal = problem.problem === 'unreadable' || problem.problem === 'bad-name';
  if (fatal && !skipUnreadable) {
    throw new IoError(`cannot back up ${problem.path}: ${problem.message} (--skip-unreadable continues past it)`);
  }
  warnings.push(`${problem.path}: skipped (${problem.message})`);
}

/** A source's items one batch each, for sources without scanBatches. */
async function* batchesOf<T>(items: AsyncIterable<T>): AsyncGenerator<T[]> {
  for await (const item of items) yield [item];
}

/** Reads a small file whole (it is about to be hashed and compressed in one call). */
async function readWhole(source: Source, path: string, size: number): Promise<Buffer> {
  if (source.readWhole) return source.readWhole(path, size);
  const chunks: Buffer[] = [];
  for await (const chunk of source.open(path)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
