import type { AuditCheckpoint, AuditEntry } from '@tresor/contracts';

/** One stored record as it is, before any parsing: verification must see tampered data too. */
export interface StoredRecord {
  /** Where it is in the store, for messages (`line 7`, `_id 7`). */
  readonly position: string;
  readonly raw: unknown;
}

/**
 * Where the chain is kept. Stores keep entries in append order and never reorder them; they do
 * no hashing. `append` is the only write of entries, and it must refuse a taken seq or id.
 */
export interface AuditStore {
  /** The entry with the highest seq (the last appended), or undefined for an empty log. */
  head(): Promise<AuditEntry | undefined>;
  /** The entry appended with idempotency key `id`. */
  findById(id: string): Promise<AuditEntry | undefined>;
  /** Stores `entry`; ConflictError if its seq is not head+1 or its id is taken (another writer won). */
  append(entry: AuditEntry): Promise<void>;
  /** Entries with seq >= `from`, in seq order, at most `limit`. */
  read(from: number, limit: number): Promise<AuditEntry[]>;
  /** Every stored entry record in storage order, unparsed. */
  scan(): AsyncIterable<StoredRecord>;
  /** Stores a checkpoint (a second one for the same seq is ignored). */
  appendCheckpoint(checkpoint: AuditCheckpoint): Promise<void>;
  lastCheckpoint(): Promise<AuditCheckpoint | undefined>;
  /** Every stored checkpoint record in seq order, unparsed. */
  scanCheckpoints(): AsyncIterable<StoredRecord>;
  close(): Promise<void>;
}
