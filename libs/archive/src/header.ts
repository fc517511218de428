import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson, wrappedKeySchema } from '@tresor/crypto';
import { IntegrityError, UnsupportedError } from '@tresor/errors';
import {
  ARCHIVE_CIPHER,
  ARCHIVE_FORMAT_VERSION,
  ARCHIVE_MAGIC,
  MAX_ARCHIVE_FRAME_SIZE,
  MAX_HEADER_SIZE,
  MAX_WRAPPED_KEYS,
  MIN_ARCHIVE_FRAME_SIZE,
  PRELUDE_SIZE,
  STREAM_SALT_SIZE,
} from './format.js';
import { backupIdSchema, timestampSchema } from './ids.js';
import type { RandomAccessSource } from './random-access-source.js';
import { firstIssue } from './zod-issue.js';

/** The archive header, stored in clear as canonical JSON after the prelude. */
export const archiveHeaderSchema = z.strictObject({
  formatVersion: z.literal(ARCHIVE_FORMAT_VERSION),
  backupId: backupIdSchema,
  createdAt: timestampSchema,
  cipher: z.literal(ARCHIVE_CIPHER),
  frameSize: z.number().int().min(MIN_ARCHIVE_FRAME_SIZE).max(MAX_ARCHIVE_FRAME_SIZE),
  streamSalt: z
    .base64()
    .refine((s) => Buffer.from(s, 'base64').length === STREAM_SALT_SIZE, `must be ${STREAM_SALT_SIZE} bytes`),
  keys: z.array(wrappedKeySchema).min(1).max(MAX_WRAPPED_KEYS),
});
export type ArchiveHeader = z.infer<typeof archiveHeaderSchema>;

/** A parsed header and where the STREAM frames begin. */
export interface HeaderInfo {
  readonly header: ArchiveHeader;
  readonly payloadStart: number;
}

/** Prelude and header bytes: magic, u16 BE version, u32 BE length, canonical JSON. */
export function encodeHeader(header: ArchiveHeader): Buffer {
  const json = Buffer.from(canonicalJson(header), 'utf8');
  const prelude = Buffer.alloc(PRELUDE_SIZE);
  ARCHIVE_MAGIC.copy(prelude, 0);
  prelude.writeUInt16BE(header.formatVersion, ARCHIVE_MAGIC.length);
  prelude.writeUInt32BE(json.length, ARCHIVE_MAGIC.length + 2);
  return Buffer.concat([prelude, json]);
}

/**
 * HKDF info of the payload stream. It binds every header field except the wrapped keys, so the
 * clear-text header cannot be altered unnoticed, while keys can be re-wrapped without re-encrypting.
 */
export function archiveStreamInfo(header: ArchiveHeader): string {
  const { keys: _keys, ...bound } = header;
  const digest = createHash('sha256').update(canonicalJson(bound), 'utf8').digest('hex');
  return `tresor/v1/archive:${header.backupId}:${digest}`;
}

/** Reads and validates prelude and header; IntegrityError or UnsupportedError saying what is wrong. */
export async function readHeader(source: RandomAccessSource): Promise<HeaderInfo> {
  if (source.size < PRELUDE_SIZE) {
    throw new IntegrityError(`object of ${source.size} bytes is too short to be a tresor archive`);
  }
  const prelude = await source.read(0, PRELUDE_SIZE);
  if (!prelude.subarray(0, ARCHIVE_MAGIC.length).equals(ARCHIVE_MAGIC)) {
    throw new IntegrityError('object is not a tresor archive (bad magic)');
  }
  const version = prelude.readUInt16BE(ARCHIVE_MAGIC.length);
  if (version > ARCHIVE_FORMAT_VERSION) {
    throw new UnsupportedError(
      `archive format version ${version} is newer than this tresor (supports ${ARCHIVE_FORMAT_VERSION})`,
    );
  }
  if (version !== ARCHIVE_FORMAT_VERSION)
    throw new IntegrityError(`archive format version ${version} does not exist`);
  const length = prelude.readUInt32BE(ARCHIVE_MAGIC.length + 2);
  if (length === 0 || length > MAX_HEADER_SIZE) {
    throw new IntegrityError(`archive header length ${length} is outside 1..${MAX_HEADER_SIZE} bytes`);
  }
  if (PRELUDE_SIZE + length > source.size) {
    throw new IntegrityError(
      `archive header of ${length} bytes runs past the end of the ${source.size}-byte object`,
    );
  }
  const bytes = await source.read(PRELUDE_SIZE, length);
  return { header: parseHeader(bytes), payloadStart: PRELUDE_SIZE + length };
}

function parseHeader(bytes: Buffer): ArchiveHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new IntegrityError('archive header is not valid UTF-8 JSON');
  }
  const parsed = archiveHeaderSchema.safeParse(raw);
  if (!parsed.success) throw new IntegrityError(`archive header is invalid: ${firstIssue(parsed.error)}`);
  // One encoding per header: nothing can hide in whitespace, key order or escapes.
  if (canonicalJson(parsed.data) !== bytes.toString('utf8')) {
    throw new IntegrityError(`archive ${parsed.data.backupId}: header is not in canonical form`);
  }
  return parsed.data;
}
