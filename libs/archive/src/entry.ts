/** Compression codecs an entry's content can be stored with. */
export type Codec = 'none' | 'gzip' | 'brotli' | 'xz' | 'bzip2' | 'zstd';

export type EntryType = 'file' | 'dir' | 'symlink';

/**
 * Where an entry's stored content lives: a byte range of the plaintext payload stream of an
 * archive (this backup's, or an ancestor's when the content is unchanged or deduplicated).
 */
export interface DataRef {
  readonly backupId: string;
  /** Offset of the compressed content in the archive's decrypted payload stream. */
  readonly offset: number;
  /** Length of the compressed content. */
  readonly length: number;
  readonly codec: Codec;
}

/** One line of an archive's entry table: the full state of one path at backup time. */
export interface Entry {
  /** Relative POSIX path; validated by `validateEntryPath` on every read. */
  readonly path: string;
  readonly type: EntryType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Nanoseconds since the epoch as a decimal string. */
  readonly mtimeNs: string;
  readonly size: number;
  /** Inode at backup time: lets the next incremental skip unchanged files without reading them. */
  readonly ino: number;
  /** Hex SHA-256 of the plaintext content (files only). */
  readonly sha256?: string;
  /** Where the content is stored (files only). */
  readonly data?: DataRef;
  /** Symlink target (symlinks only). */
  readonly linkTarget?: string;
}
