import type { Codec, DataRef, Entry, EntryType } from '@tresor/archive';
import type { BackupLevel, BackupRecord, SourceRecord } from '../catalog.js';

/** A row of `sources`, as better-sqlite3 returns it. */
export interface SourceRow {
  id: string;
  kind: string;
  location: string;
  created_at: string;
}

/** A row of `backups`. */
export interface BackupRow {
  id: string;
  source_id: string;
  level: string;
  parent_id: string | null;
  created_at: string;
  created_ms: number;
  completed_at: string;
  tags: string;
  archive_key: string;
  archive_sha256: string;
  archive_size: number;
  manifest_key: string;
  manifest_sha256: string;
  data_backup_ids: string;
  files: number;
  dirs: number;
  bytes_in: number;
  bytes_stored: number;
}

/**
 * The columns of `entries` after backup_id (the staging table has just these), each with its
 * value as an expression over an entry `e`: one definition for entryValues here and for the
 * staging thread, which evaluates ENTRY_VALUES_SOURCE (see staging-thread.ts).
 */
const entryColumnValues = [
  ['path', 'e.path'],
  ['type', 'e.type'],
  ['mode', 'e.mode'],
  ['uid', 'e.uid'],
  ['gid', 'e.gid'],
  ['mtime_ns', 'e.mtimeNs'],
  ['size', 'e.size'],
  ['ino', 'e.ino'],
  ['sha256', 'e.sha256 ?? null'],
  ['data_backup', 'e.data?.backupId ?? null'],
  ['data_offset', 'e.data?.offset ?? null'],
  ['data_length', 'e.data?.length ?? null'],
  ['codec', 'e.data?.codec ?? null'],
  ['link_target', 'e.linkTarget ?? null'],
] as const;

/** The columns of `entries` after backup_id, in the order of entryValues and EntryValues. */
export const entryColumns = entryColumnValues.map(([column]) => column);

/** The source of a function from an entry to its values in the order of entryColumns. */
export const ENTRY_VALUES_SOURCE = `(e) => [${entryColumnValues.map(([, value]) => value).join(', ')}]`;

export function sourceFromRow(row: SourceRow): SourceRecord {
  return { id: row.id, kind: row.kind, location: row.location, createdAt: row.created_at };
}

export function backupToRow(backup: BackupRecord, createdMs: number): BackupRow {
  return {
    id: backup.id,
    source_id: backup.sourceId,
    level: backup.level,
    parent_id: backup.parentId,
    created_at: backup.createdAt,
    created_ms: createdMs,
    completed_at: backup.completedAt,
    tags: JSON.stringify(backup.tags),
    archive_key: backup.archiveKey,
    archive_sha256: backup.archiveSha256,
    archive_size: backup.archiveSize,
    manifest_key: backup.manifestKey,
    manifest_sha256: backup.manifestSha256,
    data_backup_ids: JSON.stringify(backup.dataBackupIds),
    files: backup.files,
    dirs: backup.dirs,
    bytes_in: backup.bytesIn,
    bytes_stored: backup.bytesStored,
  };
}

export function backupFromRow(row: BackupRow): BackupRecord {
  return {
    id: row.id,
    sourceId: row.source_id,
    level: row.level as BackupLevel,
    parentId: row.parent_id,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    tags: JSON.parse(row.tags) as string[],
    archiveKey: row.archive_key,
    archiveSha256: row.archive_sha256,
    archiveSize: row.archive_size,
    manifestKey: row.manifest_key,
    manifestSha256: row.manifest_sha256,
    dataBackupIds: JSON.parse(row.data_backup_ids) as string[],
    files: row.files,
    dirs: row.dirs,
    bytesIn: row.bytes_in,
    bytesStored: row.bytes_stored,
  };
}

/** An entry's values in the order of entryColumns: bound by position, which costs less than by name for every row of a backup. */
export const entryValues = new Function(`return ${ENTRY_VALUES_SOURCE}`)() as (entry: Entry) => (string | number | null)[];

/** An entry row's values in the order of entryColumns, as a raw (array) statement returns them. */
export type EntryValues = [
  path: string,
  type: string,
  mode: number,
  uid: number,
  gid: number,
  mtimeNs: string,
  size: number,
  ino: number,
  sha256: string | null,
  dataBackup: string | null,
  dataOffset: number | null,
  dataLength: number | null,
  codec: string | null,
  linkTarget: string | null,
];

/**
 * The entry a row stores, from its values in column order (rows read as arrays cost half of rows
 * read as objects, and a backup reads its parent's whole table); optional fields are left out
 * rather than set to undefined.
 */
export function entryFromValues(values: EntryValues): Entry {
  const [path, type, mode, uid, gid, mtimeNs, size, ino, sha256, dataBackup, dataOffset, dataLength, codec, linkTarget] =
    values;
  const entry: { -readonly [K in keyof Entry]: Entry[K] } = { path, type: type as EntryType, mode, uid, gid, mtimeNs, size, ino };
  if (sha256 !== null) entry.sha256 = sha256;
  const data = dataRefFromValues(dataBackup, dataOffset, dataLength, codec);
  if (data !== undefined) entry.data = data;
  if (linkTarget !== null) entry.linkTarget = linkTarget;
  return entry;
}

/** The data ref that a row's data_backup, data_offset, data_length and codec columns store, if any. */
export function dataRefFromValues(
  backupId: string | null,
  offset: number | null,
  length: number | null,
  codec: string | null,
): DataRef | undefined {
  if (backupId === null || offset === null || length === null || codec === null) return undefined;
  return { backupId, offset, length, codec: codec as Codec };
}
