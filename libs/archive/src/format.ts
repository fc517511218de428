/** First 8 bytes of every archive object. */
export const ARCHIVE_MAGIC = Buffer.from('TRSRARC1', 'ascii');
/** Archive format version this build writes and the newest it reads. */
export const ARCHIVE_FORMAT_VERSION = 1;
/** magic (8) + u16 BE version + u32 BE header length. */
export const PRELUDE_SIZE = ARCHIVE_MAGIC.length + 2 + 4;
/** Largest header accepted; real headers are a few hundred bytes per wrapped key. */
export const MAX_HEADER_SIZE = 1024 * 1024;
/** The one payload cipher of format version 1. */
export const ARCHIVE_CIPHER = 'AES-256-GCM-STREAM';
/** Frame sizes an archive may declare (plaintext bytes per frame). */
export const MIN_ARCHIVE_FRAME_SIZE = 4 * 1024;
export const MAX_ARCHIVE_FRAME_SIZE = 4 * 1024 * 1024;
/** Length of the random HKDF salt of the payload stream. */
export const STREAM_SALT_SIZE = 32;
/** Most wrapped copies of the data key one archive may carry. */
export const MAX_WRAPPED_KEYS = 64;
/** Last 24 bytes of the payload: magic, u64 BE table offset, u64 BE table length. */
export const FOOTER_MAGIC = Buffer.from('TRSRIDX1', 'ascii');
export const FOOTER_SIZE = FOOTER_MAGIC.length + 8 + 8;
/** Longest entry-table line accepted (a path and a link target of 4096 bytes fit easily). */
export const MAX_ENTRY_LINE_BYTES = 64 * 1024;
