import { z } from 'zod';
import { IntegrityError } from '@tresor/errors';
import type { Codec, DataRef, Entry } from './entry.js';
import { backupIdSchema, sha256HexSchema } from './ids.js';
import { entryPathProblem, quotePath } from './paths.js';
import { firstIssue } from './zod-issue.js';

/** Longest symlink target accepted, in UTF-8 bytes. */
export const MAX_LINK_TARGET_BYTES = 4096;

const count = z.number().int().nonnegative();
// Inode numbers may exceed 2^53 on some filesystems; stat reports them as (inexact) doubles.
const inode = z.number().nonnegative().refine(Number.isInteger, 'must be an integer');
const u32 = z.number().int().min(0).max(0xffff_ffff);

/** Schema of a DataRef as stored in entry tables. */
export const dataRefSchema = z.strictObject({
  backupId: backupIdSchema,
  offset: count,
  length: count,
  codec: z.enum(['none', 'gzip', 'brotli', 'xz', 'bzip2', 'zstd'] satisfies Codec[]),
});

/** Schema of one entry-table line (shape only; see parseEntry for the rules across fields). */
export const entrySchema = z.strictObject({
  path: z.string(),
  type: z.enum(['file', 'dir', 'symlink']),
  mode: u32,
  uid: u32,
  gid: u32,
  mtimeNs: z.string().regex(/^-?(0|[1-9][0-9]{0,24})$/, 'must be a decimal integer'),
  size: count,
  ino: inode,
  sha256: sha256HexSchema.optional(),
  data: dataRefSchema.optional(),
  linkTarget: z.string().optional(),
});

declare const checked: unique symbol;

/**
 * An entry parseEntry accepted. Its strings other than path and linkTarget are of the schema's
 * alphabets (hex, digits, backup-id characters, enum names) and its numbers are integers, so it
 * can be written as JSON without escaping them (entryJson).
 */
export type CheckedEntry = Entry & { readonly [checked]: true };

/** Validates an entry (shape, safe path, fields its type needs or forbids); IntegrityError naming the path. */
export function parseEntry(value: unknown): CheckedEntry {
  // Quoted only for a message: escaping every path of a table cost as much as checking it.
  const path = (): string => quotePath((value as { path?: unknown } | null)?.path ?? '?');
  let entry: Entry;
  if (hasEntryShape(value)) {
    entry = value;
  } else {
    const parsed = entrySchema.safeParse(value);
    if (!parsed.success) throw new IntegrityError(`entry ${path()} is malformed: ${firstIssue(parsed.error)}`);
    entry = parsed.data;
  }
  const pathProblem = entryPathProblem(entry.path);
  if (pathProblem !== undefined) throw new IntegrityError(`unsafe entry path ${path()}: ${pathProblem}`);
  const problem = typeProblem(entry);
  if (problem !== undefined) throw new IntegrityError(`entry ${path()} (${entry.type}) ${problem}`);
  return entry as CheckedEntry;
}

const entryKeys = new Set(Object.keys(entrySchema.shape));
const dataRefKeys = new Set(Object.keys(dataRefSchema.shape));
const codecs = new Set<unknown>(dataRefSchema.shape.codec.options);
const entryTypes = new Set<unknown>(entrySchema.shape.type.options);
const mtimePattern = /^-?(0|[1-9][0-9]{0,24})$/;
const sha256Pattern = /^[0-9a-f]{64}$/;
const backupIdPattern = /^[A-Za-z0-9._-]{1,128}$/;

const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isU32 = (v: unknown): boolean => isCount(v) && (v as number) <= 0xffff_ffff;
const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

/**
 * The schemas' checks, hand-written for the common case: an entry table has one line per file, and
 * zod costs more per entry than the rest of the work on it. Never accepts what the schema refuses;
 * anything it does not accept goes to the schema, which decides and words the error.
 */
function hasEntryShape(v: unknown): v is Entry {
  if (!isPlain(v)) return false;
  for (const key of Object.keys(v)) if (!entryKeys.has(key)) return false;
  const { path, type, mode, uid, gid, mtimeNs, size, ino, sha256, data, linkTarget } = v;
  return (
    typeof path === 'string' &&
    entryTypes.has(type) &&
    isU32(mode) &&
    isU32(uid) &&
    isU32(gid) &&
    typeof mtimeNs === 'string' &&
    mtimePattern.test(mtimeNs) &&
    isCount(size) &&
    typeof ino === 'number' &&
    Number.isInteger(ino) &&
    ino >= 0 &&
    (sha256 === undefined || (typeof sha256 === 'string' && sha256Pattern.test(sha256))) &&
    (data === undefined || hasDataRefShape(data)) &&
    (linkTarget === undefined || typeof linkTarget === 'string')
  );
}

/** True when `v` passes dataRefSchema, checked without zod (which costs more than a key file's restore). */
export function hasDataRefShape(v: unknown): v is DataRef {
  if (!isPlain(v)) return false;
  for (const key of Object.keys(v)) if (!dataRefKeys.has(key)) return false;
  const { backupId, offset, length, codec } = v;
  return (
    typeof backupId === 'string' &&
    backupIdPattern.test(backupId) &&
    backupId !== '.' &&
    backupId !== '..' &&
    isCount(offset) &&
    isCount(length) &&
    codecs.has(codec)
  );
}

function typeProblem(entry: Entry): string | undefined {
  const hasContent = entry.sha256 !== undefined || entry.data !== undefined;
  switch (entry.type) {
    case 'file':
      if (entry.sha256 === undefined || entry.data === undefined) return 'has no sha256 or data reference';
      if (entry.linkTarget !== undefined) return 'has a link target';
      return undefined;
    case 'dir':
      if (hasContent) return 'has content';
      if (entry.linkTarget !== undefined) return 'has a link target';
      return undefined;
    case 'symlink':
      if (hasContent) return 'has content';
      return linkTargetProblem(entry.linkTarget);
  }
}

function linkTargetProblem(target: string | undefined): string | undefined {
  if (target === undefined || target.length === 0) return 'has no link target';
  if (target.includes('\0')) return 'has a link target containing a NUL byte';
  if (Buffer.byteLength(target, 'utf8') > MAX_LINK_TARGET_BYTES)
    return `has a link target longer than ${MAX_LINK_TARGET_BYTES} bytes`;
  return undefined;
}
