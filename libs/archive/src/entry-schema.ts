import { z } from 'zod';
import { IntegrityError } from '@tresor/errors';
import type { Codec, Entry } from './entry.js';
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

/** Validates an entry (shape, safe path, fields its type needs or forbids); IntegrityError naming the path. */
export function parseEntry(value: unknown): Entry {
  const parsed = entrySchema.safeParse(value);
  const path = quotePath((value as { path?: unknown } | null)?.path ?? '?');
  if (!parsed.success) throw new IntegrityError(`entry ${path} is malformed: ${firstIssue(parsed.error)}`);
  const entry = parsed.data;
  const pathProblem = entryPathProblem(entry.path);
  if (pathProblem !== undefined) throw new IntegrityError(`unsafe entry path ${path}: ${pathProblem}`);
  const problem = typeProblem(entry);
  if (problem !== undefined) throw new IntegrityError(`entry ${path} (${entry.type}) ${problem}`);
  return entry;
}

function typeProblem(entry: z.infer<typeof entrySchema>): string | undefined {
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
