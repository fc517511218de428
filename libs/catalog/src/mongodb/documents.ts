import type { DataRef, Entry } from '@tresor/archive';
import type { BackupRecord, SourceRecord } from '../catalog.js';

/** Stored shapes. Field names are short in `entries` (there are many of them). */

export interface SourceDoc {
  _id: string;
  kind: string;
  location: string;
  createdAt: string;
}

export interface BackupDoc {
  _id: string;
  /** `pending` while entries are written; readers see only `visible` backups. */
  state: 'pending' | 'visible';
  /** Random token of the add that wrote this backup: entries of another (dead) add carry another token. */
  token: string;
  pendingSince: Date;
  createdMs: number;
  record: BackupRecord;
}

export interface EntryDoc {
  /** `<backupId>/<token>/<hex path>`: unique per add, so a duplicate path fails the insert. */
  _id: string;
  b: string;
  t: string;
  /** Hex of the path's UTF-8 bytes: sorts in byte order whatever collation the server has. */
  k: string;
  e: Omit<Entry, 'data'>;
  d?: DataRef;
  /** Lower-case sha256 of the content (files). */
  s?: string;
  /** Backup whose archive holds the content (for findData). */
  db?: string;
}

export const hexPath = (path: string): string => Buffer.from(path, 'utf8').toString('hex');

export function sourceFromDoc(doc: SourceDoc): SourceRecord {
  return { id: doc._id, kind: doc.kind, location: doc.location, createdAt: doc.createdAt };
}

export function entryToDoc(entry: Entry, backupId: string, token: string): EntryDoc {
  const { data, ...rest } = entry;
  const e = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Omit<Entry, 'data'>;
  const k = hexPath(entry.path);
  const doc: EntryDoc = { _id: `${backupId}/${token}/${k}`, b: backupId, t: token, k, e };
  if (data) {
    doc.d = { backupId: data.backupId, offset: data.offset, length: data.length, codec: data.codec };
    doc.db = data.backupId;
  }
  if (entry.sha256) doc.s = entry.sha256.toLowerCase();
  return doc;
}

export function entryFromDoc(doc: EntryDoc): Entry {
  return doc.d ? { ...doc.e, data: { ...doc.d } } : { ...doc.e };
}
