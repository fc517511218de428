import type { Readable } from 'node:stream';

/** What a backend can do beyond the basic contract. */
export interface StoreCapabilities {
  /** Objects can be written with a retention period the server enforces (WORM). */
  readonly immutability: boolean;
  /** `get` with a range reads only that range from the backend. */
  readonly rangedReads: boolean;
  /** Objects can be copied without passing through this process. */
  readonly serverSideCopy: boolean;
  /**
   * The storage classes (S3 class, Azure access tier, GCS class) `setStorageClass` accepts, from the
   * warmest to the coldest. Absent or empty: the backend has no tiers (local, SFTP, FTP).
   */
  readonly storageClasses?: readonly string[];
  /** Those of `storageClasses` whose objects cannot be read until `rehydrate` made them readable. */
  readonly offlineClasses?: readonly string[];
}

/** Facts about a stored object. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly modified?: Date;
  /** The object's storage class (one of `capabilities.storageClasses`) on backends that have tiers. */
  readonly storageClass?: string;
}

/** The result of a completed `put`. */
export interface PutResult {
  readonly size: number;
  /** Hex SHA-256 of the bytes stored, computed while they were written. */
  readonly sha256: string;
}

/** How strictly the server holds a retention: governance can be lifted by a privileged identity, compliance by nobody. */
export type RetentionMode = 'governance' | 'compliance';

export interface PutOptions {
  /** If given, the put fails with IntegrityError (and stores nothing) unless the bytes hash to this. */
  readonly expectedSha256?: string;
  /**
   * Write once, read many: the server refuses to delete or replace the object before this time.
   * Only on stores whose `capabilities.immutability` is true; elsewhere the put is an UnsupportedError.
   */
  readonly retainUntil?: Date;
  /** Retention mode where the backend has several (S3 Object Lock); default governance. */
  readonly retentionMode?: RetentionMode;
}

/**
 * Part of an object to read. An offset past the end is a UsageError; a range reaching past the end
 * is cut at the end (so an offset equal to the size reads nothing).
 */
export interface ByteRange {
  readonly offset: number;
  /** Bytes to read from offset; to the end when omitted. */
  readonly length?: number;
}

/**
 * The storage port: a flat namespace of immutable objects under slash-separated keys
 * (`archives/<id>.tra`, `manifests/<id>.json`). Every backend implements it and passes the
 * shared conformance suite. A `put` is atomic: readers see the whole object or nothing.
 */
export interface ObjectStore {
  /** Human-readable location for messages, e.g. `local:/srv/tresor/objects`. Never contains secrets. */
  readonly location: string;
  readonly capabilities: StoreCapabilities;
  /**
   * Stores `body` under `key`, replacing nothing: fails with ConflictError if the key exists, also
   * when another writer wins a race for it. Keys are checked with `validateObjectKey` (UsageError).
   * On any failure nothing is visible under the key and a `body` stream is destroyed.
   */
  put(key: string, body: Readable | Uint8Array, options?: PutOptions): Promise<PutResult>;
  /** Streams the object (or a range of it). Fails with NotFoundError if it does not exist. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /**
   * The object's hex SHA-256 and size, where the store computes them more cheaply than a caller
   * streaming `get` would (the local store: on a thread that reads the file itself). NotFoundError
   * if it does not exist. Callers use `hashObject`, which falls back to streaming.
   */
  sha256?(key: string): Promise<{ sha256: string; size: number }>;
  /**
   * Up to `length` bytes at `offset` as one buffer, where the store reads them more cheaply than a
   * ranged `get` would stream them (the local store: one positional read, no stream); fewer when
   * the object ends first. NotFoundError if it does not exist. Callers use `randomAccess`.
   */
  readRange?(key: string, offset: number, length: number): Promise<Buffer>;
  /** Facts about the object, or undefined if it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix`, in lexicographic key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Removes the object; removing a missing object is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Moves the object to another storage class without changing its bytes or key; nothing happens
   * when it is in that class already. Only on stores with `capabilities.storageClasses`. A class
   * the server does not offer is an UnsupportedError; a missing object a NotFoundError.
   */
  setStorageClass?(key: string, storageClass: string): Promise<void>;
  /**
   * Starts making an object in an offline class (S3 GLACIER/DEEP_ARCHIVE, Azure Archive) readable,
   * for `days` where the backend makes a temporary copy (S3); returns before that is done (hours).
   */
  rehydrate?(key: string, options: { days: number }): Promise<void>;
  /**
   * Until when the server refuses to delete the object (WORM retention), or undefined when it is
   * not retained or does not exist. Only on stores that can retain objects (S3 Object Lock); a
   * replicated store answers with the latest retention of its copies.
   */
  retainedUntil?(key: string): Promise<Date | undefined>;
  /** Releases connections (remote backends); the store is not used afterwards. */
  close?(): Promise<void>;
}
