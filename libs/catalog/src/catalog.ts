import type { DataRef, Entry, InheritedRun } from '@tresor/archive';

export type BackupLevel = 'full' | 'differential' | 'incremental';

/** A backed-up source, as the catalog knows it. */
export interface SourceRecord {
  readonly id: string;
  readonly kind: string;
  readonly location: string;
  readonly createdAt: string;
}

/** One completed backup: what the signed manifest says, indexed for queries. */
export interface BackupRecord {
  readonly id: string;
  readonly sourceId: string;
  readonly level: BackupLevel;
  /** The backup this one is relative to (null for full backups). */
  readonly parentId: string | null;
  /** ISO-8601 time the source was read (the point in time this backup represents). */
  readonly createdAt: string;
  readonly completedAt: string;
  readonly tags: readonly string[];
  readonly archiveKey: string;
  readonly archiveSha256: string;
  readonly archiveSize: number;
  readonly manifestKey: string;
  readonly manifestSha256: string;
  /** Backups whose archives hold content this backup's entries refer to (itself included). */
  readonly dataBackupIds: readonly string[];
  readonly files: number;
  readonly dirs: number;
  readonly bytesIn: number;
  /** Compressed bytes this backup added to its own archive. */
  readonly bytesStored: number;
}

/**
 * Which entries to return. Patterns are picomatch globs with `dot: true`, matched against the
 * entry's relative path: a pattern without a slash (`*.key`) matches the last segment at any depth,
 * a leading slash anchors it at the source root (`/tls/*.pem`), any other slash matches the whole
 * path. An entry matches when its path or any of its parent directories does, so `--exclude cache`
 * also leaves out everything below `cache/`. An empty list means no filter.
 */
export interface EntryQuery {
  /** An entry must match one of these when given. */
  readonly include?: readonly string[];
  /** An entry matching any of these is left out. */
  readonly exclude?: readonly string[];
}

/** The entry table an archive ended with: what the staged lines must add up to (see BackupStaging). */
export interface EntryTableSummary {
  readonly entryCount: number;
  /** SHA-256 (hex) of the table's bytes: the manifest's entriesRoot. */
  readonly entriesRoot: string;
}

/**
 * A backup's entry table handed to the catalog line by line as the archive writes it. Commit
 * checks that the lines staged are exactly the table (count and SHA-256) before anything is
 * visible, so the catalog always equals the archive's table.
 */
export interface BackupStaging {
  /**
   * Whole lines of the table (canonical JSON, each ending in a newline), in table order; the
   * caller may reuse `lines` at once. `inherited` runs of them are the entries of the parent
   * named to stageBackup as they were: a catalog may copy those rows instead of reading the lines.
   * Resolves when the catalog can take more (never rejects: a failure surfaces at commit).
   */
  add(lines: Uint8Array, inherited?: readonly InheritedRun[]): Promise<void>;
  /**
   * Every line is added and the table is `table`: the catalog may put the entries in place now,
   * invisible until commit (which then has less left to do), while the caller finishes the
   * archive and its manifest. Calling it is optional; a failure surfaces at commit.
   */
  prepare(table: EntryTableSummary): void;
  /** Adds the backup with the staged entries atomically, with addBackup's errors; IntegrityError if the lines are not `table`. */
  commit(backup: BackupRecord, table: EntryTableSummary): Promise<void>;
  /** Drops what was staged; safe after commit and more than once, never rejects. */
  discard(): Promise<void>;
}

export interface BackupQuery {
  readonly sourceId?: string;
  /** Only backups whose createdAt is not after this time. */
  readonly notAfter?: Date;
}

/**
 * The catalog port: an index over what storage holds. It is never the only copy of anything:
 * `tresor catalog rebuild` recreates it from the manifests and archives in storage.
 */
export interface Catalog {
  /** The source with this kind and location, created on first use (its id derives from both, so a rebuilt catalog gets the same id). */
  ensureSource(kind: string, location: string): Promise<SourceRecord>;
  getSource(id: string): Promise<SourceRecord | undefined>;
  listSources(): Promise<SourceRecord[]>;
  /**
   * Records a backup and its full entry table atomically: if this fails or the process dies, no
   * part of the backup is visible. ConflictError if the id exists, NotFoundError if the source does
   * not, IntegrityError for an invalid entry or a path given twice.
   */
  addBackup(backup: BackupRecord, entries: AsyncIterable<Entry> | Iterable<Entry>): Promise<void>;
  /**
   * Optional: a backup's entries taken while its archive is written (then indexed on another
   * thread), so that adding the backup at the end has little left to do. Lines may be inherited
   * from `inheritFrom`, which must then be the parent of the backup committed. Undefined when this
   * catalog cannot; the caller then uses addBackup.
   */
  stageBackup?(backupId: string, inheritFrom?: string): BackupStaging | undefined;
  getBackup(id: string): Promise<BackupRecord | undefined>;
  /** Backups oldest first. */
  listBackups(query?: BackupQuery): Promise<BackupRecord[]>;
  /** Entries of a backup in path order (byte order of UTF-8), filtered; NotFoundError if no such backup. */
  entries(backupId: string, query?: EntryQuery): AsyncIterable<Entry>;
  /** Where content with this hash is already stored among the given backups, if anywhere. */
  findData(sha256: string, amongBackupIds: readonly string[]): Promise<DataRef | undefined>;
  /** Removes a backup and its entries (storage is untouched); removing a missing backup is not an error. */
  deleteBackup(id: string): Promise<void>;
  /** Removes everything (used by `catalog rebuild`). */
  clear(): Promise<void>;
  close(): Promise<void>;
}
